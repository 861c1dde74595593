#!/usr/bin/env bash
# Makes sure the demo can speak: espeak-ng (Debian package `espeak-ng`) narrates the demo video
# and the audio block. Installed with apt when running as root on Debian/Ubuntu; otherwise a clear
# line says what is missing and the demo is built without speech (a silent video with captions,
# no audio block). Never fails: the platform itself does not need it. ffmpeg comes from the
# imageio-ffmpeg wheel in requirements.txt when the system has none.
set -uo pipefail

if command -v espeak-ng >/dev/null 2>&1 || command -v espeak >/dev/null 2>&1; then
    echo "ensure_media_tools: $(espeak-ng --version 2>/dev/null || espeak --version 2>/dev/null | head -1)"
    exit 0
fi

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure_media_tools: installing espeak-ng with apt for the demo's narration"
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null 2>&1 \
        || { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null 2>&1; }; then
        echo "ensure_media_tools: $(espeak-ng --version 2>/dev/null)"
        exit 0
    fi
    echo "ensure_media_tools: WARNING: apt-get could not install espeak-ng;" \
         "the demo will have no spoken narration." >&2
    exit 0
fi

echo "ensure_media_tools: WARNING: espeak-ng is not installed (Debian/Ubuntu:" \
     "sudo apt-get install espeak-ng); the demo will have no spoken narration." >&2
exit 0
