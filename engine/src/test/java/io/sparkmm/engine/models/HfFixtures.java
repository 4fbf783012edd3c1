package io.sparkmm.engine.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fixtures src/test/python/hf_fixtures.py recorded with real Hugging Face transformers, one
 * file per transformers era ({@code /hf/tf4/fixtures.json}, {@code /hf/tf5/fixtures.json}): for
 * each checkpoint (written by transformers itself, or by our Java writers) what transformers'
 * processor, forward and greedy generate gave. Read-only views over the JSON.
 */
final class HfFixtures {

    static final List<String> ERAS = List.of("tf4", "tf5");

    private static final Map<String, List<Entry>> BY_ERA = new LinkedHashMap<>();

    private HfFixtures() {
    }

    /** transformers' processor output for one committed image, and the projected features of it. */
    record Image(String file, Tensor pixelValues, Tensor torchvisionPixelValues, int[] featureShape, int[] featureRows,
                 float[][] features) {
    }

    /** Shape, digest of the float32 little-endian bytes, and evenly spaced flat samples of one tensor. */
    record Tensor(int[] shape, String sha256, int[] sampleIndex, float[] sample) {
    }

    /**
     * One prompt: as text (through the saved tokenizer and processor) or, when {@code text} is
     * null, as the token ids {@code inputIds}; {@code inputIds} are always the ids after
     * placeholder expansion. {@code nearTies} are greedy steps whose top-2 logit gap was under 1e-4.
     */
    record Prompt(String text, List<String> images, int[] inputIds, int[] topIds, float[] topLogits,
                  float[] lastLogits, int[] greedyIds, float[] greedyGaps, List<Integer> nearTies) {
    }

    /**
     * One checkpoint: source "hf" (saved by transformers) or "ours" (saved by our Java writers);
     * {@code eosTokenIds} are the ids transformers' generate stops on.
     */
    record Entry(String era, String name, String source, String resource, String architecture, List<String> files,
                 Map<String, List<String>> loadingInfo, List<Integer> eosTokenIds, List<Image> images,
                 List<Prompt> prompts) {

        @Override
        public String toString() {
            return era + " " + name;
        }
    }

    static synchronized List<Entry> era(String era) {
        return BY_ERA.computeIfAbsent(era, HfFixtures::read);
    }

    static List<Entry> all() {
        List<Entry> out = new ArrayList<>();
        ERAS.forEach(e -> out.addAll(era(e)));
        return out;
    }

    static Entry entry(String era, String name) {
        return era(era).stream().filter(e -> e.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no fixture for " + name + " in " + era));
    }

    /** A classpath resource (e.g. "/hf/tf5/llama-gqa-llama3rope-f32") as a path on disk. */
    static Path path(String resource) {
        try {
            var url = HfFixtures.class.getResource(resource);
            if (url == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path image(String file) {
        return path("/hf/images/" + file);
    }

    private static List<Entry> read(String era) {
        JsonNode root;
        try (InputStream in = HfFixtures.class.getResourceAsStream("/hf/" + era + "/fixtures.json")) {
            if (in == null) {
                throw new IllegalStateException("missing /hf/" + era + "/fixtures.json: run src/test/python/hf_fixtures.py");
            }
            root = new ObjectMapper().readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Entry> out = new ArrayList<>();
        for (JsonNode c : root.get("checkpoints")) {
            Map<String, List<String>> loading = new LinkedHashMap<>();
            c.get("loading_info").properties().forEach(p -> loading.put(p.getKey(), strings(p.getValue())));
            List<Image> images = new ArrayList<>();
            for (JsonNode im : c.path("images")) {
                float[][] feats = new float[im.get("features").size()][];
                for (int r = 0; r < feats.length; r++) {
                    feats[r] = floats(im.get("features").get(r));
                }
                images.add(new Image(im.get("image").asText(), tensor(im.get("pixel_values")),
                        im.has("pixel_values_torchvision") ? tensor(im.get("pixel_values_torchvision")) : null,
                        ints(im.get("features_shape")), ints(im.get("feature_rows")), feats));
            }
            List<Prompt> prompts = new ArrayList<>();
            for (JsonNode p : c.get("prompts")) {
                List<Integer> ties = new ArrayList<>();
                p.get("near_ties").forEach(t -> ties.add(t.asInt()));
                prompts.add(new Prompt(p.has("prompt_text") ? p.get("prompt_text").asText() : null,
                        strings(p.get("images")), ints(p.get("input_ids")), ints(p.get("top_ids")),
                        floats(p.get("top_logits")), floats(p.get("last_logits")), ints(p.get("greedy_ids")),
                        floats(p.get("greedy_gaps")), List.copyOf(ties)));
            }
            List<Integer> eos = new ArrayList<>();
            c.get("eos_token_ids").forEach(t -> eos.add(t.asInt()));
            out.add(new Entry(era, c.get("name").asText(), c.get("source").asText(), c.get("resource").asText(),
                    c.get("architecture").asText(), strings(c.get("files")), loading, List.copyOf(eos), images,
                    prompts));
        }
        return List.copyOf(out);
    }

    private static Tensor tensor(JsonNode t) {
        return new Tensor(ints(t.get("shape")), t.get("sha256").asText(), ints(t.get("sample_index")),
                floats(t.get("sample")));
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(v -> out.add(v.asText()));
        return List.copyOf(out);
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).asDouble();
        }
        return out;
    }
}
