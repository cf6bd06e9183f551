# syntax=docker/dockerfile:1.7
#
# Nemotron Serve image: built with the CUDA 12 toolkit (nvcc compiles the kernels into the jar) and a
# JDK 25; runs on the matching CUDA runtime image (cudart, cuBLAS, NCCL for the CUDA backend) with a
# jlinked JRE, as uid 10001, with `nemotron serve` as its entry point (arguments are serve's flags).
#
#   docker build -t nemotron-serve .
#   docker run --gpus all --shm-size 16g -v /path/to/model:/models/current:ro -p 50051:50051 -p 9090:9090 \
#     nemotron-serve --model /models/current --backend cuda --tensor-parallel 8
#   docker run -p 50051:50051 -p 9090:9090 nemotron-serve --model demo              # CPU, no GPU needed
#   docker run --rm --entrypoint nemotron nemotron-serve inspect --config /models/current/config.json
#
# UNVERIFIED: written on a machine where no container engine can run, so it has never been built.
# The tags exist upstream: CUDA 12.9 update 1 on Ubuntu 24.04 (CUDA 12 because the CUDA backend links
# JCuda 12.6; a 12.x runtime runs on drivers from R525 on through minor-version compatibility) and
# Temurin 25 on the same Ubuntu "noble", so the copied JDK finds the glibc it was built for.

ARG CUDA_VERSION=12.9.1
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

# The same CUDA_VERSION as the build stage: the runtime libraries match the toolkit that built the kernels.
FROM nvidia/cuda:${CUDA_VERSION}-runtime-${UBUNTU_FLAVOR}
ENV JAVA_HOME=/opt/java
ENV PATH=${JAVA_HOME}/bin:${PATH}
COPY --from=build /opt/jre ${JAVA_HOME}
# A fixed numeric uid so Kubernetes' runAsNonRoot can verify it; /tmp as home because the root
# filesystem is read-only in the chart and only /tmp (and the cache folder) are writable.
RUN groupadd --gid 10001 nemotron \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin nemotron
# DJL extracts its tokenizer native library into a cache folder on first use: keep it under /tmp.
# NEMOTRON_CACHE_DIR: where `--model demo` writes its checkpoint (the chart mounts an emptyDir there).
ENV HOME=/tmp \
    DJL_CACHE_DIR=/tmp/djl \
    NEMOTRON_CACHE_DIR=/tmp/nemotron-cache
COPY --from=build /src/service/target/nemotron-serve.jar /app/nemotron-serve.jar
# The repository's ./nemotron without its JDK search and build step: the same JVM flags, the prebuilt
# jar. exec, so that the JVM is PID 1 and gets SIGTERM itself (graceful drain). JDK_JAVA_OPTIONS,
# read by the java launcher, adds JVM options (e.g. -XX:MaxRAMPercentage=50).
# G1 unless JDK_JAVA_OPTIONS names a collector itself (two would stop the JVM from starting).
COPY --chmod=0755 <<'EOF' /usr/local/bin/nemotron
#!/bin/sh
gc=-XX:+UseG1GC
case " $JDK_JAVA_OPTIONS " in
  *-XX:+UseSerialGC*|*-XX:+UseParallelGC*|*-XX:+UseG1GC*|*-XX:+UseZGC*|*-XX:+UseShenandoahGC*|*-XX:+UseEpsilonGC*) gc= ;;
esac
# Memory as ./nemotron serve sets it (README "Memory"): heap = KV pool (1 GiB by default, on the heap on the CPU
# backend) + 512 MiB; direct memory capped by the container's limit, not by the heap; idle heap returned to the OS.
# JDK_JAVA_OPTIONS (the chart's jvmOptions) naming a heap limit or a direct memory cap replaces ours.
heap=-Xmx1536m
# (an initial heap size above our -Xmx would stop the JVM, so one of those replaces it too)
case " $JDK_JAVA_OPTIONS $JAVA_TOOL_OPTIONS " in
  *-Xmx*|*-Xms*|*-XX:MaxHeapSize=*|*-XX:InitialHeapSize=*|*-XX:MaxRAM=*|*-XX:MaxRAMPercentage=*|*-XX:InitialRAMPercentage=*) heap= ;;
esac
direct=
case " $JDK_JAVA_OPTIONS $JAVA_TOOL_OPTIONS " in
  *-XX:MaxDirectMemorySize=*) ;;
  *) limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
     total=$(( $(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) * 1024 ))
     case "$limit" in ''|max|*[!0-9]*) limit=$total ;; esac
     [ "$limit" -lt "$total" ] || limit=$total
     direct=-XX:MaxDirectMemorySize=$limit ;;
esac
exec java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED $gc -Xss4m \
  $heap $direct -XX:-AlwaysPreTouch -XX:G1PeriodicGCInterval=60000 \
  -jar /app/nemotron-serve.jar "$@"
EOF
USER 10001:10001
WORKDIR /app
# 50051: gRPC API (and the gRPC health service the probes use); 9090: management (/actuator/prometheus)
EXPOSE 50051 9090
ENTRYPOINT ["nemotron", "serve"]
CMD ["--model", "/models/current"]
