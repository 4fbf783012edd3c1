#!/usr/bin/env bash
# Generates the test media for io.sparkmm.processors.media with Debian's ffmpeg CLI
# (apt package `ffmpeg`). Usage: make_media.sh OUTDIR
#
# Every file has content the tests can predict:
#   images: solid colours or one pattern re-encoded losslessly (PNG/WebP/BMP decode equal),
#   audio:  440 Hz sines with known amplitude per channel,
#   video:  30 frames at 10 fps where frame i is a solid gray of level 8*i (a frame counter
#           that survives lossy codecs: neighbours differ by 8 levels).
# Images that need exact per-pixel alpha, palettes, 16-bit or CMYK are written from Java
# (javax.imageio) by the test base class instead, as an independent encoder.
set -euo pipefail

out="${1:?usage: make_media.sh OUTDIR}"
command -v ffmpeg >/dev/null || { echo "ffmpeg CLI not found: install the Debian package 'ffmpeg'" >&2; exit 3; }
mkdir -p "$out/good" "$out/bad"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
g="$out/good"; b="$out/bad"

# ---- images -------------------------------------------------------------------------------
# solid (51,102,204): exact in PNG, close in JPEG
ff -f lavfi -i "color=c=0x3366CC:s=512x512,format=rgb24" -frames:v 1 "$g/solid_512.png"
ff -f lavfi -i "color=c=0x3366CC:s=512x512,format=rgb24" -frames:v 1 -q:v 2 "$g/solid_512.jpg"
# a busy pattern as the lossless reference, re-encoded to the other formats
ff -f lavfi -i "testsrc2=s=160x120:r=1,format=rgb24" -frames:v 1 "$g/pattern.png"
ff -i "$g/pattern.png" -frames:v 1 -q:v 2 "$g/pattern.jpg"
ff -i "$g/pattern.png" -frames:v 1 -c:v libwebp -lossless 1 "$g/pattern.webp"
ff -i "$g/pattern.png" -frames:v 1 -c:v libwebp -quality 90 "$g/pattern_lossy.webp"
ff -i "$g/pattern.png" -frames:v 1 -pix_fmt bgr24 "$g/pattern.bmp"
# (255,0,0,128) everywhere: composited on white it is (255,127,127)
ff -f lavfi -i "color=c=0xFF000080:s=32x16,format=rgba" -frames:v 1 -pix_fmt rgba "$g/red_alpha128.png"
# gray PNG (level 100) and palette PNG (one colour)
ff -f lavfi -i "color=c=0x646464:s=24x24,format=gray" -frames:v 1 -pix_fmt gray "$g/gray100.png"
ff -f lavfi -i "color=c=0x00FF00:s=24x24,format=rgb24" -frames:v 1 -pix_fmt pal8 "$g/palette_green.png"
# animated GIF red, green, blue (exact in GIF's palette): the first frame must be red
ff -f lavfi -i "color=c=red:s=40x30:r=1:d=1,format=rgb24" \
   -f lavfi -i "color=c=lime:s=40x30:r=1:d=1,format=rgb24" \
   -f lavfi -i "color=c=blue:s=40x30:r=1:d=1,format=rgb24" \
   -filter_complex "[0][1][2]concat=n=3:v=1,split[a][b];[a]palettegen=max_colors=4[p];[b][p]paletteuse" \
   -loop 0 "$g/rgb_anim.gif"

# ---- audio --------------------------------------------------------------------------------
# stereo WAV 44.1 kHz, 2 s: left 0.5*sin, right 0.25*sin -> mono 0.375*sin
ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t)|0.25*sin(2*PI*440*t):s=44100:d=2" -c:a pcm_s16le "$g/sine440_stereo_44k.wav"
# stereo in anti-phase: averaging must cancel to silence
ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t)|-0.5*sin(2*PI*440*t):s=44100:d=1" -c:a pcm_s16le "$g/antiphase.wav"
# mono 0.5*sin in the compressed formats
mono="aevalsrc=0.5*sin(2*PI*440*t):s=44100:d=2"
ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t):s=16000:d=2" -c:a flac "$g/sine440_16k.flac"
ff -f lavfi -i "$mono" -c:a libmp3lame -b:a 128k "$g/sine440.mp3"
ff -f lavfi -i "$mono" -c:a libvorbis -q:a 5 "$g/sine440_vorbis.ogg"
ff -f lavfi -i "aevalsrc=0.5*sin(2*PI*440*t):s=48000:d=2" -c:a libopus -b:a 96k "$g/sine440_opus.ogg"
ff -f lavfi -i "$mono" -c:a aac -b:a 128k "$g/sine440.m4a"

# ---- video --------------------------------------------------------------------------------
# 64x48, 10 fps, 3 s = 30 frames; frame i is gray 8*i (N is geq's frame number)
src="color=c=black:s=64x48:r=10:d=3,format=rgb24,geq=r='8*N':g='8*N':b='8*N'"
ff -f lavfi -i "$src" -c:v libx264 -pix_fmt yuv420p -crf 10 "$g/counter.mp4"
ff -f lavfi -i "$src" -c:v libvpx-vp9 -pix_fmt yuv420p -crf 10 -b:v 0 "$g/counter.webm"
ff -f lavfi -i "$src" -c:v libvpx -pix_fmt yuv420p -crf 4 -b:v 1M "$g/counter_vp8.mkv"
ff -f lavfi -i "$src" -c:v mjpeg -pix_fmt yuvj420p -q:v 2 "$g/counter.avi"
# 30 fps, 2 s = 60 frames, for fps sampling (frame i gray 4*i)
ff -f lavfi -i "color=c=black:s=64x48:r=30:d=2,format=rgb24,geq=r='4*N':g='4*N':b='4*N'" \
   -c:v libx264 -pix_fmt yuv420p -crf 10 "$g/counter30fps.mp4"

# ---- bad corpus ---------------------------------------------------------------------------
: > "$b/zero.jpg"
: > "$b/zero.mp4"
: > "$b/zero.wav"
head -c 4096 /dev/urandom > "$b/random.jpg"
head -c 65536 /dev/urandom > "$b/random.mp4"
head -c 65536 /dev/urandom > "$b/random.wav"
printf 'this is not an image, just text\n' > "$b/text.png"
sz=$(stat -c %s "$g/solid_512.jpg"); head -c $((sz / 2)) "$g/solid_512.jpg" > "$b/truncated.jpg"
sz=$(stat -c %s "$g/counter.mp4"); head -c $((sz / 2)) "$g/counter.mp4" > "$b/truncated.mp4"
# WAV whose RIFF/fmt header is overwritten with garbage
cp "$g/sine440_stereo_44k.wav" "$b/corrupt_header.wav"
printf 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' | dd of="$b/corrupt_header.wav" bs=1 seek=0 conv=notrunc status=none
# The decompression-bomb PNG (30000x30000, 1 bit) is written by the Java test base:
# ffmpeg refuses frames that large.
echo "media written to $out"
