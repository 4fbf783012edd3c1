package io.sparkmm.engine.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkmm.engine.EngineResult;
import io.sparkmm.engine.sampling.TokenLogprob;

import java.util.List;

/** The CLI's JSON form of a result, with vLLM/OpenAI field names. */
final class ResultJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private ResultJson() {
    }

    static String write(EngineResult r) throws Exception {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", r.requestId());
        ArrayNode ids = o.putArray("token_ids");
        for (int id : r.tokenIds()) {
            ids.add(id);
        }
        if (r.text() != null) {
            o.put("text", r.text());
        } else {
            o.putNull("text");
        }
        if (r.finishReason() != null) {
            o.put("finish_reason", r.finishReason().wireName());
        } else {
            o.putNull("finish_reason");
        }
        if (r.stopReason() != null) {
            o.put("stop_reason", r.stopReason());
        }
        o.put("prompt_tokens", r.promptTokens());
        o.put("completion_tokens", r.completionTokens());
        o.put("cached_tokens", r.cachedTokens());
        if (!r.logprobs().isEmpty() && !r.logprobs().get(0).isEmpty()) {
            ArrayNode steps = o.putArray("logprobs");
            for (List<TokenLogprob> step : r.logprobs()) {
                ArrayNode s = steps.addArray();
                for (TokenLogprob lp : step) {
                    s.addObject().put("token_id", lp.tokenId()).put("logprob", lp.logprob());
                }
            }
        }
        if (r.error() != null) {
            o.put("error", r.error());
        }
        return JSON.writeValueAsString(o);
    }
}
