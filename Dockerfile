# Two images from one file (docs/deployment.md):
#   docker build --target worker -t ml-autograder-worker .   # runs student code (--sandbox docker)
#   docker build -t ml-autograder .                          # the grader with the course
# CPU by default. For CUDA, a CUDA base and torch's CUDA wheels:
#   docker build --build-arg BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 \
#                --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 ...
# Both stages install with grader/templates/setup.sh, the script Gradescope runs.
ARG BASE=python:3.11-slim-bookworm

# --- worker: Python, torch, numpy and the grader runtime; no course files ---
FROM ${BASE} AS worker
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
COPY pyproject.toml /src/pyproject.toml
COPY grader /src/grader
RUN GRADER_SOURCE=/src VENV=/opt/venv TORCH_INDEX_URL=${TORCH_INDEX_URL} \
        bash /src/grader/templates/setup.sh \
    && rm -rf /src /var/lib/apt/lists/* /root/.cache
ENV PATH=/opt/venv/bin:$PATH
# /opt/grader and /submission must not exist: DockerSandbox mounts tmpfs there.
USER 65534:65534
WORKDIR /tmp

# --- grader: the worker plus the course; the reference is readable by root only ---
FROM worker AS grader
USER root
COPY assignments /course/assignments
COPY reference /course/reference
RUN chmod -R a+rX /course/assignments && chown -R root:root /course/reference \
    && chmod -R go-rwx /course/reference
ENV GRADER_COURSE_ROOT=/course
WORKDIR /grading
ENTRYPOINT ["python", "-m", "grader"]
CMD ["list"]
