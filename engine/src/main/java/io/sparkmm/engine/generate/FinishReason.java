package io.sparkmm.engine.generate;

/** Why generation ended, named as in vLLM and the OpenAI API. */
public enum FinishReason {
    /** A stop token (EOS or a requested stop id) was generated. */
    STOP,
    /** max_tokens were generated, or the model's context is full. */
    LENGTH;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
