# The ovhkube image the release workflow publishes (ghcr.io/OWNER/ovhkube:VERSION) and the Kubernetes CronJob runs:
# the wheel of this checkout on python:3.12-slim, its dependencies pinned by constraints.txt, as an unprivileged user.
# The base image is pinned by the digest of its multi-platform index (python:3.12-slim, Python 3.12.13 on Debian
# trixie, as docker-library/repo-info records it in repos/python/remote/3.12-slim.md); to move to a newer one:
#   docker buildx imagetools inspect python:3.12-slim   (the "Digest:" line)
FROM python:3.12-slim@sha256:229a2c5bfa27522db7815ea81f9bed70af17ccb9de9fc7ad142b1877b5830d36 AS build
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir --constraint constraints.txt "hatchling>=1.21" "build>=1.2" \
 && python -m build --wheel --no-isolation --outdir /dist . \
 && cp constraints.txt /dist/

FROM python:3.12-slim@sha256:229a2c5bfa27522db7815ea81f9bed70af17ccb9de9fc7ad142b1877b5830d36
COPY --from=build /dist/ /dist/
RUN pip install --no-cache-dir --constraint /dist/constraints.txt /dist/*.whl && rm -rf /dist \
 && mkdir /work && chown 65532:65532 /work
# No shell profile, no root: uid 65532 ("nonroot") owns only /work (the apply lock and --out files go there).
USER 65532:65532
WORKDIR /work
ENV HOME=/work PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["ovhkube"]
CMD ["--help"]
