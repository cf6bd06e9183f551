{{/* Chart name, overridable; 63 characters is the DNS label limit of Kubernetes names. */}}
{{- define "nemotron-serve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name; the release name alone when it already contains the chart name. */}}
{{- define "nemotron-serve.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nemotron-serve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nemotron-serve.labels" -}}
helm.sh/chart: {{ include "nemotron-serve.chart" . }}
{{ include "nemotron-serve.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels must never change between releases: a Deployment's selector is immutable. */}}
{{- define "nemotron-serve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nemotron-serve.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "nemotron-serve.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "nemotron-serve.configMapName" -}}
{{- printf "%s-config" (include "nemotron-serve.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fixed paths inside the container: the generated config names them, the Deployment mounts them. */}}
{{- define "nemotron-serve.configDir" -}}/etc/nemotron/config{{- end }}
{{- define "nemotron-serve.apiKeysDir" -}}/etc/nemotron/api-keys{{- end }}
{{- define "nemotron-serve.tlsDir" -}}/etc/nemotron/tls{{- end }}
{{- define "nemotron-serve.cacheDir" -}}/var/cache/nemotron{{- end }}

{{/*
Spring properties for TLS on the gRPC port. NOTE: the only place that names Spring gRPC's and Spring
Boot's SSL property keys (spring.grpc.server.ssl.*, spring.ssl.bundle.pem.*): a rename is one edit here.
*/}}
{{- define "nemotron-serve.tlsConfig" -}}
{{- $dir := include "nemotron-serve.tlsDir" . -}}
spring:
  ssl:
    bundle:
      pem:
        grpc:
          keystore:
            certificate: {{ printf "%s/tls.crt" $dir }}
            private-key: {{ printf "%s/tls.key" $dir }}
          {{- if ne .Values.tls.clientAuth "NONE" }}
          truststore:
            certificate: {{ printf "%s/ca.crt" $dir }}
          {{- end }}
  grpc:
    server:
      ssl:
        enabled: true
        bundle: grpc
        client-auth: {{ .Values.tls.clientAuth }}
{{- end }}

{{/* Spring properties for API keys read from the mounted Secret. */}}
{{- define "nemotron-serve.authConfig" -}}
nemotron:
  security:
    require-api-key: true
    api-keys-file: {{ printf "%s/keys" (include "nemotron-serve.apiKeysDir" .) }}
{{- end }}

{{/*
The server's application.yaml: what follows from the chart's values (drain, auth, tls), overlaid by the
free-form .Values.config, whose keys win.
*/}}
{{- define "nemotron-serve.config" -}}
{{- $config := dict "nemotron" (dict "drain" (dict "grace-period" (printf "%ds" (int .Values.drain.gracePeriodSeconds)))) }}
{{- if .Values.auth.enabled }}
{{- $config = mergeOverwrite $config (include "nemotron-serve.authConfig" . | fromYaml) }}
{{- end }}
{{- if .Values.tls.enabled }}
{{- $config = mergeOverwrite $config (include "nemotron-serve.tlsConfig" . | fromYaml) }}
{{- end }}
{{- $config = mergeOverwrite $config (deepCopy (.Values.config | default dict)) }}
{{- toYaml $config }}
{{- end }}

{{/* The probe mode in effect: auto resolves to tcp with TLS (the kubelet's gRPC probe is plaintext only). */}}
{{- define "nemotron-serve.probeMode" -}}
{{- if eq .Values.probes.mode "auto" }}
{{- ternary "tcp" "grpc" .Values.tls.enabled }}
{{- else }}
{{- .Values.probes.mode }}
{{- end }}
{{- end }}

{{/* The handler of one probe; args: list of root context and the health service name. */}}
{{- define "nemotron-serve.probeHandler" -}}
{{- $root := index . 0 }}
{{- if eq (include "nemotron-serve.probeMode" $root) "grpc" }}
grpc:
  port: {{ int $root.Values.service.grpcPort }}
  service: {{ index . 1 | quote }}
{{- else }}
tcpSocket:
  port: grpc
{{- end }}
{{- end }}

{{/* Checks on values that would otherwise render a Deployment that cannot work. */}}
{{- define "nemotron-serve.validate" -}}
{{- if lt (int .Values.tensorParallelSize) 1 }}
{{- fail "tensorParallelSize must be at least 1" }}
{{- end }}
{{- if not (has .Values.backend (list "cuda" "cpu")) }}
{{- fail (printf "backend must be cuda or cpu, not %q" .Values.backend) }}
{{- end }}
{{- if not (has .Values.probes.mode (list "auto" "grpc" "tcp")) }}
{{- fail (printf "probes.mode must be auto, grpc or tcp, not %q" .Values.probes.mode) }}
{{- end }}
{{- if and .Values.tls.enabled (eq .Values.probes.mode "grpc") }}
{{- fail "probes.mode grpc cannot work with tls.enabled: the kubelet's gRPC probe does not speak TLS (use auto or tcp)" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) }}
{{- fail "tls.enabled needs tls.existingSecret: a kubernetes.io/tls Secret with tls.crt and tls.key" }}
{{- end }}
{{- if not (has .Values.tls.clientAuth (list "NONE" "OPTIONAL" "REQUIRE")) }}
{{- fail (printf "tls.clientAuth must be NONE, OPTIONAL or REQUIRE, not %q" .Values.tls.clientAuth) }}
{{- end }}
{{- if and .Values.auth.enabled (not .Values.auth.existingSecret) }}
{{- fail "auth.enabled needs auth.existingSecret: a Secret holding the API keys" }}
{{- end }}
{{- if and (not .Values.model.demo) (not .Values.model.hostPath) (not .Values.model.existingClaim) }}
{{- fail "set model.existingClaim or model.hostPath (or model.demo): the server cannot start without the model folder" }}
{{- end }}
{{- with .Values.podDisruptionBudget }}
{{- if and .enabled (include "nemotron-serve.isSet" .minAvailable) (include "nemotron-serve.isSet" .maxUnavailable) }}
{{- fail "podDisruptionBudget: set minAvailable or maxUnavailable, not both" }}
{{- end }}
{{- end }}
{{- $drain := add (int .Values.drain.preStopSleepSeconds) (int .Values.drain.gracePeriodSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) $drain }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed drain.preStopSleepSeconds + drain.gracePeriodSeconds (%d), or the kubelet kills streams the server is still draining" (int .Values.terminationGracePeriodSeconds) $drain) }}
{{- end }}
{{- end }}

{{/* "true" when a value is given: not absent, null or "" (0 counts as given). */}}
{{- define "nemotron-serve.isSet" -}}
{{- if and (not (kindIs "invalid" .)) (ne (toString .) "") }}true{{ end }}
{{- end }}
