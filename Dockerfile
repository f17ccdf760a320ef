# The ovhkube image the CI recipes and the Kubernetes CronJob use: the wheel of this checkout on python:3.12-slim,
# run as an unprivileged user. Build and push it, then refer to it by digest:
#   docker build -t REGISTRY/ovhkube:0.1.0 . && docker push REGISTRY/ovhkube:0.1.0
FROM python:3.12-slim AS build
WORKDIR /src
COPY . .
RUN pip install --no-cache-dir "hatchling>=1.21" "build>=1.2" \
 && python -m build --wheel --no-isolation --outdir /dist .

FROM python:3.12-slim
COPY --from=build /dist/ /dist/
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist \
 && mkdir /work && chown 65532:65532 /work
# No shell profile, no root: uid 65532 ("nonroot") owns only /work (the apply lock and --out files go there).
USER 65532:65532
WORKDIR /work
ENV HOME=/work PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["ovhkube"]
CMD ["--help"]
