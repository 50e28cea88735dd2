# Stand-in for python:3.12-slim, built from Debian packages for machines
# that cannot reach a container registry (CI here). It carries Debian's
# Python 3.11, not 3.12: a harness step, never what users run. The project's
# Dockerfiles only rely on what both images have: `python3` and `python` on
# PATH, the venv module, CA certificates.
FROM polyshop-standin/debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv ca-certificates \
    && ln -s python3 /usr/bin/python \
    && rm -rf /var/lib/apt/lists/*
ENV LANG=C.UTF-8
CMD ["python3"]
