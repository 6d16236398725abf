#!/usr/bin/env bash
# Fetches the header-only cuDNN frontend (PyPI wheel nvidia-cudnn-frontend) into DIR and prints its include folder.
# Usage: scripts/fetch-cudnn-frontend.sh DIR   (setup.sh passes build/_deps). Prints nothing and exits 1 when
# it cannot (no pip, no network): the build then leaves cudnn.sdpa out.
set -euo pipefail
dir="${1:?usage: fetch-cudnn-frontend.sh DIR}/cudnn-frontend"
version="${ATTNBENCH_CUDNN_FRONTEND_VERSION:-1.32.0}"
"$(dirname "$0")/fetch-wheel.sh" "$dir" "nvidia-cudnn-frontend==$version" "$dir/include/cudnn_frontend.h" || exit 1
echo "$dir/include"
