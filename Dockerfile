# syntax=docker/dockerfile:1
# Production image: dependencies are installed from the hash-locked
# requirements.lock (`make lock`) into a virtualenv in one stage, which the slim
# runtime stage copies; it runs as an unprivileged user. No secret is baked in.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock .
# --require-hashes: every package, transitive ones included, must match a hash in the lock.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/python -m pip install --no-cache-dir --require-hashes -r requirements.lock

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=devlab.settings
RUN groupadd --system --gid 10001 devlab && useradd --system --uid 10001 --gid devlab --home-dir /app --shell /usr/sbin/nologin devlab
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --chown=devlab:devlab . .
RUN mkdir -p /app/staticfiles /app/logs /app/checkpoints \
    && chown devlab:devlab /app/staticfiles /app/logs /app/checkpoints
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "devlab.wsgi", "--config", "gunicorn.conf.py"]
