# syntax=docker/dockerfile:1.7
# Masking sweep as a container image. It masks transcripts (the analysis language packs: natasha,
# pymorphy, nltk) and bleeps audio (PyAV + NumPy); together with the core dependencies that is about
# 310 MB unzipped, over Lambda's 250 MiB limit for a zip function plus its layers (figures in
# layers/README.md), so this one function ships as an image like the transcriber.
#
#   docker build -f infrastructure/images/masking_sweep.Dockerfile -t callsight-masking-sweep .
#
# Build from the repository root. Same runtime as the zip functions (CPython 3.12, x86_64).
FROM public.ecr.aws/lambda/python:3.12
COPY pyproject.toml README.md /build/
COPY layers/callsight /build/layers/callsight
# setuptools: natasha's MorphVocab (pymorphy2) finds its dictionaries through pkg_resources, which
# the 3.12 base image lacks and setuptools 81 removes (see EXTRA_ROOTS in layers/build_layer.py).
RUN pip install --no-cache-dir "/build[analysis]" "setuptools>=70,<81" && rm -rf /build
COPY functions/masking_sweep/app.py ${LAMBDA_TASK_ROOT}/
ENV POWERTOOLS_SERVICE_NAME=masking-sweep \
    POWERTOOLS_METRICS_NAMESPACE=Callsight
CMD ["app.lambda_handler"]
