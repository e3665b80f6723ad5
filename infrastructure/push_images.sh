#!/usr/bin/env bash
# Build the two container images (transcriber, masking sweep) for linux/amd64, push them to ECR
# and print the parameter overrides `sam deploy` needs.
#
#   infrastructure/push_images.sh cpu     # transcriber for a CPU Lambda (int8, Whisper base baked in)
#   infrastructure/push_images.sh gpu     # transcriber for Lambda Managed Instances with a GPU
#   MODEL_DIR=models/whisper-large-v3-turbo MODEL_NAME=whisper-large-v3-turbo infrastructure/push_images.sh gpu
#
# Needs Docker with buildx, AWS CLI v2 with credentials, a region (AWS_REGION or the CLI default).
# CALLSIGHT_PREFIX (default callsight) names the repositories; TAG (default: the git commit) tags images.
set -euo pipefail

mode="${1:-cpu}"
case "$mode" in
  cpu | gpu) ;;
  *) echo "usage: $0 cpu|gpu" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

region="${AWS_REGION:-$(aws configure get region)}"
account="$(aws sts get-caller-identity --query Account --output text)"
registry="$account.dkr.ecr.$region.amazonaws.com"
prefix="${CALLSIGHT_PREFIX:-callsight}"
tag="${TAG:-$(git rev-parse --short HEAD)}"

for repository in "$prefix-transcribe" "$prefix-masking-sweep"; do
  if ! aws ecr describe-repositories --region "$region" --repository-names "$repository" >/dev/null 2>&1; then
    aws ecr create-repository --region "$region" --repository-name "$repository" \
      --image-tag-mutability IMMUTABLE --image-scanning-configuration scanOnPush=true \
      --encryption-configuration encryptionType=KMS >/dev/null
  fi
done
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"

transcribe="$registry/$prefix-transcribe:$mode-$tag"
masking="$registry/$prefix-masking-sweep:$tag"
model_args=()
[ -n "${MODEL_DIR:-}" ] && model_args+=(--build-arg "MODEL_DIR=$MODEL_DIR")
[ -n "${MODEL_NAME:-}" ] && model_args+=(--build-arg "MODEL_NAME=$MODEL_NAME")

# --provenance=false: Lambda wants a single-platform image manifest, not the index buildx writes
# when it attaches attestations.
docker buildx build --platform linux/amd64 --provenance=false --push \
  -f functions/transcribe/Dockerfile --target "$mode" ${model_args[@]+"${model_args[@]}"} -t "$transcribe" .
docker buildx build --platform linux/amd64 --provenance=false --push \
  -f infrastructure/images/masking_sweep.Dockerfile -t "$masking" .

echo "TranscribeMode=$mode TranscribeImageUri=$transcribe MaskingSweepImageUri=$masking"
