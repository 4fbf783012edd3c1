package io.sparkmm.connector.generate;

/**
 * One row's generation inputs as plain Java values, the same for the DataFrame path (read from a
 * {@code Row}) and the SQL function (read from an {@code InternalRow}).
 *
 * @param name how errors name the row (key column value, a media path, or its index)
 * @param prompt the prompt text; null or empty is that row's error
 * @param images null (no images), a {@code byte[]}, a path {@code String}, or a {@code List} of those
 * @param audio like images
 * @param video like images
 */
public record RowInput(String name, String prompt, Object images, Object audio, Object video) {
}
