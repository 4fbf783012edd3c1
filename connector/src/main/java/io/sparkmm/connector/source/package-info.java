/**
 * The {@code multimodal} Spark data source: media files as rows.
 *
 * <pre>{@code
 * Dataset<Row> media = spark.read().format("multimodal")
 *         .option("modality", "image,video")   // default: all three
 *         .option("probe", "true")              // adds width, height, duration_s, fps, sample_rate, channels, probe_error
 *         .load("s3a://bucket/media/2024-*");   // directories, files or globs; several paths: load(a, b)
 * }</pre>
 *
 * <p><b>Schema.</b> {@code path} string, {@code modality} string ({@code image|audio|video}),
 * {@code content} binary, {@code length} long, {@code modificationTime} timestamp,
 * {@code read_error} string (null when fine: oversize or unreadable files keep their row with
 * {@code content} null and the reason here); with {@code probe=true} also {@code width} int,
 * {@code height} int, {@code duration_s} double, {@code fps} double, {@code sample_rate} int,
 * {@code channels} int (null when not applicable or unknown) and {@code probe_error} string. A
 * failed probe never fails the read.
 *
 * <p><b>Which files.</b> Listed through Hadoop's FileSystem with the session's Hadoop
 * configuration (plus any {@code fs.*} reader options). Globs are honoured; hidden names
 * ({@code .x}, {@code _x}) are skipped below a directory or among glob matches, but a file named
 * explicitly is read. {@code recursiveFileLookup} is on by default here (media collections
 * are trees; there are no partition columns to discover). Only files with a media extension
 * are listed (jpg, jpeg, png, webp, bmp, gif; wav, flac, mp3, ogg, m4a; mp4, webm, mkv, avi):
 * other files are never opened unless {@code sniffUnknownExtensions=true}, which keeps those
 * whose magic bytes name a modality.
 *
 * <p><b>Modality.</b> Magic bytes win over the extension (a PNG named {@code .wav} is an
 * image). Containers that hold audio or video alike (MP4, Matroska/WebM, Ogg) keep an audio or
 * video extension's guess. Unreadable or unrecognised magic keeps the extension's guess; the
 * decoder reports the error per row later.
 *
 * <p><b>Cost.</b> Only the selected columns are computed: {@code content} reads the file,
 * {@code modality} (or a modality filter) reads 32 head bytes, probe columns read headers or
 * open FFmpeg's demuxer. The scan's description in the physical plan lists the read columns,
 * and the scan reports {@code contentBytesRead} and {@code headerBytesRead} metrics.
 *
 * <p><b>Partitions.</b> Whole files packed by bytes like Spark's file sources, with
 * {@code maxPartitionBytes}, {@code openCostInBytes} and {@code minPartitions} defaulting to
 * the session's {@code spark.sql.files.*} settings. An existing empty directory gives an empty
 * DataFrame; a path or glob that names nothing fails on {@code load()} with Spark's
 * {@code PATH_NOT_FOUND}. All options: {@link io.sparkmm.connector.source.MultimodalReadOptions}.
 * Partitions of equal generation work (tokens, not bytes) come from the generator's
 * {@code balance=tokens}, which prices rows from this source's probe columns.
 */
package io.sparkmm.connector.source;
