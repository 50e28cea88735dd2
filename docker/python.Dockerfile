# The image of every Python piece of polyshop: registry, gateway, catalog,
# orders, payments. Build it from the repository root, where the shared
# package, contracts/ and the lockfile are; the build arguments say which
# piece (docker/README.md lists the command for each):
#
#     docker build -f docker/python.Dockerfile -t polyshop/catalog \
#         --build-arg PACKAGE=polyshop-catalog --build-arg FOLDER=services/catalog \
#         --build-arg PORT=5001 --build-arg DATA_DIR=/data --build-arg CONTRACTS=yes .
#
# Stage one installs the piece's package and its dependencies from uv.lock
# into a virtual environment; stage two copies only that environment (and,
# for the pieces that read it, contracts/) onto a fresh slim Python and runs
# it as an unprivileged user.

FROM python:3.12-slim AS build

# An extra CA certificate (PEM text), for builds behind a TLS-inspecting proxy:
#     docker build --build-arg EXTRA_CA_CERT="$(cat proxy-ca.pem)" ...
ARG EXTRA_CA_CERT=""
RUN if [ -n "$EXTRA_CA_CERT" ]; then \
        printf '%s\n' "$EXTRA_CA_CERT" > /usr/local/share/ca-certificates/extra-ca.crt \
        && update-ca-certificates; \
    fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    UV_SYSTEM_CERTS=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/venv
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --quiet uv==0.13.8

WORKDIR /src
# uv reads the whole workspace to use its one lockfile: every member's
# pyproject.toml comes in, but only the sources the piece needs. Up to here
# the layers are the same for every piece, so they are built once.
COPY pyproject.toml uv.lock ./
COPY libs/python/pyproject.toml libs/python/
COPY registry/pyproject.toml registry/
COPY gateway/pyproject.toml gateway/
COPY services/catalog/pyproject.toml services/catalog/
COPY services/orders/pyproject.toml services/orders/
COPY services/payments/pyproject.toml services/payments/
COPY tools/pyproject.toml tools/

# The piece: its uv package (polyshop-catalog) and its folder (services/catalog).
ARG PACKAGE
ARG FOLDER
RUN : "${PACKAGE:?needs --build-arg PACKAGE}" "${FOLDER:?needs --build-arg FOLDER}"
# Third-party packages first: this layer stays cached while only our code changes.
RUN /opt/uv/bin/uv sync --frozen --no-dev --package "$PACKAGE" --no-install-workspace
COPY libs/python libs/python
COPY ${FOLDER} ${FOLDER}
RUN /opt/uv/bin/uv sync --frozen --no-dev --package "$PACKAGE" --no-editable
# A piece served by gunicorn brings its settings file; a one-shot tool has none.
RUN if [ -f "${FOLDER}/gunicorn.conf.py" ]; then \
        cp "${FOLDER}/gunicorn.conf.py" /app/gunicorn.conf.py; fi

# The event schemas and seed data, read at run time by the services (one
# copy, in contracts/): CONTRACTS=yes puts them beside the environment.
ARG CONTRACTS=""
COPY contracts contracts
RUN if [ -n "$CONTRACTS" ]; then cp -r contracts /app/contracts; fi

FROM python:3.12-slim
ARG FOLDER
ARG PORT
# The folder of the piece's database (a volume), for the pieces that keep one.
ARG DATA_DIR=""
ARG CONTRACTS=""
RUN : "${PORT:?needs --build-arg PORT}" \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin polyshop \
    && if [ -n "$DATA_DIR" ]; then mkdir -p "$DATA_DIR" && chown polyshop: "$DATA_DIR"; fi
COPY --from=build /app /app
# The piece's gunicorn.conf.py (copied into /app by the build stage) names
# its app (`wsgi_app`), so the command below is the same for every piece.
ENV PATH=/app/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=${PORT} \
    DATA_DIR=${DATA_DIR} \
    CONTRACTS_DIR=${CONTRACTS:+/app/contracts}
WORKDIR /app
USER polyshop
EXPOSE ${PORT}
CMD ["gunicorn", "-c", "/app/gunicorn.conf.py"]
