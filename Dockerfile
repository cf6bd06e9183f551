# syntax=docker/dockerfile:1.7
#
# Nemotron Serve image: built with the CUDA toolkit (nvcc compiles the kernels into the jar) and a
# JDK 25; runs on the CUDA runtime image (cudart, cuBLAS, NCCL for the CUDA backend) with a jlinked JRE.
#
#   docker build -t nemotron-serve .
#   docker run --gpus all --shm-size 16g -v /path/to/model:/models/current:ro -p 50051:50051 -p 9090:9090 nemotron-serve
#
# UNVERIFIED: this file was written on a machine where docker cannot run (no daemon, no registry
# access), so it has never been built. Image tags were chosen to exist at the time of writing
# (CUDA 13.0 update 1 on Ubuntu 24.04; Temurin 25 on the same Ubuntu "noble" so glibc matches).

ARG CUDA_VERSION=13.0.1
ARG UBUNTU_FLAVOR=ubuntu24.04

# Temurin is taken from its official image rather than a tarball so that the build has no checksum
# to maintain; only its JDK folder is copied.
FROM eclipse-temurin:25-jdk-noble AS jdk

FROM nvidia/cuda:${CUDA_VERSION}-devel-${UBUNTU_FLAVOR} AS build
ENV JAVA_HOME=/opt/java/openjdk
ENV PATH=${JAVA_HOME}/bin:${PATH}
COPY --from=jdk /opt/java/openjdk ${JAVA_HOME}
# the Maven wrapper downloads Maven with curl and unpacks it with unzip
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# cuda.required: an image without kernels would only fail later, on the GPU node, so fail here.
# The cache mount keeps ~/.m2 (Maven itself and all dependencies) across builds without a layer.
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -ntp -DskipTests -Dcuda.required=true package
# Every module of the JDK, so no reflective or ServiceLoader use in Spring, Netty or DJL can hit a
# missing module at run time (the image is dominated by CUDA libraries anyway). jdk.jlink is left
# out because a JDK without jmods (JEP 493) cannot link it into a new image.
RUN jlink \
      --add-modules "$(java --list-modules | sed -e 's/@.*//' | grep -v '^jdk\.jlink$' | paste -sd, -)" \
      --no-header-files --no-man-pages --compress=zip-6 \
      --output /opt/jre

FROM nvidia/cuda:${CUDA_VERSION}-runtime-${UBUNTU_FLAVOR}
ENV JAVA_HOME=/opt/java
ENV PATH=${JAVA_HOME}/bin:${PATH}
COPY --from=build /opt/jre ${JAVA_HOME}
# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it; /tmp as home because the root
# filesystem is read-only in the chart and only /tmp is writable.
RUN groupadd --gid 10001 nemotron \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin nemotron
# DJL extracts its tokenizer native library into a cache folder on first use: keep it under /tmp.
ENV HOME=/tmp \
    DJL_CACHE_DIR=/tmp/djl
COPY --from=build /src/service/target/nemotron-serve.jar /app/nemotron-serve.jar
USER 10001:10001
WORKDIR /app
# 50051: gRPC API (and the gRPC health service the probes use); 9090: management (/actuator/prometheus)
EXPOSE 50051 9090
ENTRYPOINT ["java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-jar", "/app/nemotron-serve.jar"]
CMD ["serve", "--model", "/models/current"]
