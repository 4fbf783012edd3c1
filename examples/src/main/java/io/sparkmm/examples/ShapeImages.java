package io.sparkmm.examples;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Draws images of the default model's task with Java2D (antialiased): one filled shape on a
 * uniform background. The rules are the ones the default model was trained on
 * (examples/src/main/python/train_default_model.py): each side 48..256 px, aspect ratio between
 * 3:4 and 4:3, the shape fully inside the centered square whose side is the shorter side (so the
 * image processor's center crop keeps it whole) and at least 1/4 of that side across.
 *
 * <p>The training script draws with Pillow (aliased and supersampled); this renderer is a
 * different one on purpose, so images from here test that the model learned the shapes and not
 * one rasterizer's pixels. The geometry (triangle pointing up, five-pointed star with the
 * pentagram's radius ratio) is the same.
 */
public final class ShapeImages {

    /** Shape colors, in the order the script lists them. */
    public static final Map<String, Color> COLORS = ordered(
            "red", new Color(220, 30, 30),
            "green", new Color(30, 180, 30),
            "blue", new Color(30, 60, 220),
            "yellow", new Color(230, 210, 30),
            "purple", new Color(140, 40, 180),
            "orange", new Color(240, 130, 20));
    public static final Map<String, Color> BACKGROUNDS = ordered(
            "black", new Color(0, 0, 0),
            "white", new Color(255, 255, 255),
            "gray", new Color(128, 128, 128));
    public static final List<String> SHAPES = List.of("circle", "square", "triangle", "star");
    /** The four prompts the model answers; {@link Example#answer(int)} gives the expected text. */
    public static final List<String> PROMPTS = List.of("Describe the image.", "What color is the shape?",
            "What shape is this?", "What is the background color?");

    public static final int MIN_SIDE = 48;
    public static final int MAX_SIDE = 256;
    /** Bounding-box side as a fraction of the shorter side: a star is 0.951 of its box wide, so >= 1/4. */
    static final double MIN_FRACTION = 0.27;
    /** Inner / outer radius of a regular five-pointed star. */
    static final double STAR_INNER = 0.381966;

    /** One drawn image and what it shows. */
    public record Example(BufferedImage image, String color, String shape, String background) {

        /** The exact answer to {@code PROMPTS.get(prompt)}. */
        public String answer(int prompt) {
            return ShapeImages.answer(prompt, color, shape, background);
        }

        public void writePng(Path file) {
            try {
                Files.createDirectories(file.toAbsolutePath().getParent());
                if (!ImageIO.write(image, "png", file.toFile())) {
                    throw new IOException("no PNG writer");
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
    }

    private ShapeImages() {
    }

    /** The exact answer to {@code PROMPTS.get(prompt)} about a {@code color} {@code shape} on {@code background}. */
    public static String answer(int prompt, String color, String shape, String background) {
        switch (prompt) {
            case 0:
                return "a " + color + " " + shape + " on a " + background + " background";
            case 1:
                return color;
            case 2:
                return shape;
            case 3:
                return background;
            default:
                throw new IllegalArgumentException("prompt " + prompt);
        }
    }

    /** A random image under the task's rules; the same {@code rnd} state gives the same image. */
    public static Example random(Random rnd) {
        int w = between(rnd, MIN_SIDE, MAX_SIDE);
        int h = between(rnd, Math.max(MIN_SIDE, (int) Math.ceil(w * 3 / 4.0)), Math.min(MAX_SIDE, w * 4 / 3));
        int s = Math.min(w, h);
        int d = between(rnd, (int) Math.ceil(MIN_FRACTION * s), s);
        int x0 = (w - s) / 2 + rnd.nextInt(s - d + 1);
        int y0 = (h - s) / 2 + rnd.nextInt(s - d + 1);
        String color = pick(rnd, List.copyOf(COLORS.keySet()));
        String shape = pick(rnd, SHAPES);
        String background = pick(rnd, List.copyOf(BACKGROUNDS.keySet()));
        return new Example(draw(w, h, shape, x0, y0, d, COLORS.get(color), BACKGROUNDS.get(background)),
                color, shape, background);
    }

    /** Draws {@code shape} in the d x d box at (x0, y0), antialiased. */
    public static BufferedImage draw(int w, int h, String shape, double x0, double y0, double d, Color fill,
                                     Color background) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(background);
            g.fillRect(0, 0, w, h);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
            g.setColor(fill);
            if (shape.equals("circle")) {
                g.fill(new Ellipse2D.Double(x0, y0, d, d));
            } else {
                g.fill(polygon(shape, x0, y0, d));
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Outline of a square, triangle (pointing up) or star in its box, as the training script draws it. */
    static Path2D polygon(String shape, double x0, double y0, double d) {
        Path2D.Double p = new Path2D.Double();
        switch (shape) {
            case "square":
                p.moveTo(x0, y0);
                p.lineTo(x0 + d, y0);
                p.lineTo(x0 + d, y0 + d);
                p.lineTo(x0, y0 + d);
                break;
            case "triangle":
                p.moveTo(x0 + d / 2, y0);
                p.lineTo(x0 + d, y0 + d);
                p.lineTo(x0, y0 + d);
                break;
            case "star": {
                double rOut = d / 2;
                double rIn = rOut * STAR_INNER;
                double cx = x0 + d / 2;
                // The lowest points are rOut*cos(36 deg) below the center: center the star vertically.
                double cy = y0 + rOut + (d - rOut * (1 + Math.cos(Math.PI / 5))) / 2;
                for (int k = 0; k < 10; k++) {
                    double r = k % 2 == 0 ? rOut : rIn;
                    double a = -Math.PI / 2 + k * Math.PI / 5;
                    if (k == 0) {
                        p.moveTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
                    } else {
                        p.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
                    }
                }
                break;
            }
            default:
                throw new IllegalArgumentException("unknown shape " + shape);
        }
        p.closePath();
        return p;
    }

    private static int between(Random rnd, int lo, int hi) {
        return lo + rnd.nextInt(hi - lo + 1);
    }

    private static String pick(Random rnd, List<String> options) {
        return options.get(rnd.nextInt(options.size()));
    }

    private static Map<String, Color> ordered(Object... kv) {
        java.util.LinkedHashMap<String, Color> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Color) kv[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
