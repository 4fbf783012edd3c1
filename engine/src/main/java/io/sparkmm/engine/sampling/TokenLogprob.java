package io.sparkmm.engine.sampling;

/** One entry of a top-K log-probability list. */
public record TokenLogprob(int tokenId, double logprob) {
}
