package io.sparkmm.examples;

/**
 * The model the examples use when no model is given: a small LLaVA (CLIP tower, projector, Llama
 * decoder) trained by examples/src/main/python/train_default_model.py to name the shape, its color
 * and the background of images like {@link ShapeImages}'. It ships inside the examples jar as
 * resources under {@code default-model/} in the Hugging Face layout; the engine finds it on every
 * executor through the jar (see {@code ModelLocation}), so no model path has to exist anywhere.
 */
public final class DefaultModel {

    /** The location to give as {@code modelPath}. */
    public static final String LOCATION = "classpath:default-model";

    private DefaultModel() {
    }
}
