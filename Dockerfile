# Two images from one file (docs/deployment.md). BuildKit (`DOCKER_BUILDKIT=1`
# on Docker 20.10, the default from 23.0): the wheel folder is bind-mounted.
#   docker build --target worker -t ml-autograder-worker .   # runs student code (--sandbox docker)
#   docker build -t ml-autograder .                          # the grader with the course
# Build arguments:
#   BASE             the base image (a Debian/Ubuntu with or without Python). Where no
#                    registry is reachable: docker/build-base.sh makes ml-autograder-base:bookworm.
#   WHEELS           a folder inside the build context with every wheel the install needs
#                    (make docker-wheels fills docker/wheels); when it holds wheels, pip
#                    installs from it alone, else from the indexes.
#   TORCH_INDEX_URL  the index for torch when WHEELS is empty. For CUDA, a CUDA base too:
#   docker build --build-arg BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#                --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 ...
# Both stages install with grader/templates/setup.sh, the script Gradescope runs.
ARG BASE=python:3.11-slim-bookworm

# --- wheels: the WHEELS folder, bind-mounted into the install (never a layer of the images) ---
FROM scratch AS wheels
ARG WHEELS=docker/wheels
COPY ${WHEELS} /

# --- worker: Python, torch, numpy and the grader runtime (with the docker SDK); no course files ---
FROM ${BASE} AS worker
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY pyproject.toml /src/pyproject.toml
COPY grader /src/grader
RUN --mount=type=bind,from=wheels,target=/wheels \
    GRADER_SOURCE=/src VENV=/opt/venv WHEELS=/wheels EXTRAS=docker,cluster TORCH_INDEX_URL=${TORCH_INDEX_URL} \
        bash /src/grader/templates/setup.sh \
    && rm -rf /src /var/lib/apt/lists/* /root/.cache
ENV PATH=/opt/venv/bin:$PATH
# /opt/grader and /submission must not exist: DockerSandbox mounts tmpfs there.
USER 65534:65534
WORKDIR /tmp

# --- grader: the worker plus the course, run by the unprivileged user grader (10001) ---
# The reference and hidden tests are readable by the group grader alone. The container
# needs no capability and keeps all of Docker's confinement: with `--sandbox bwrap` inside, run it
# with docker/seccomp-bwrap.json (docs/deployment.md).
FROM worker AS grader
USER root
RUN groupadd --gid 10001 grader && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/grader \
        --shell /usr/sbin/nologin grader
COPY assignments /course/assignments
COPY reference /course/reference
RUN chmod -R a+rX /course/assignments && chown -R root:grader /course/reference \
    && chmod -R u=rwX,g=rX,o= /course/reference
ENV GRADER_COURSE_ROOT=/course HOME=/home/grader
USER 10001:10001
WORKDIR /grading
ENTRYPOINT ["python", "-m", "grader"]
CMD ["list"]
