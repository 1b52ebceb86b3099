{{/*
Names and labels.
*/}}
{{- define "parley.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "parley.fullname" -}}
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

{{/* A component's name: <fullname>-<component>, e.g. parley-api. Call with (list $ "api"). */}}
{{- define "parley.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "parley.fullname" $root | trunc 50 | trimSuffix "-") (index . 1) }}
{{- end }}

{{- define "parley.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "parley.selectorLabels" -}}
app.kubernetes.io/name: {{ include "parley.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "parley.labels" -}}
helm.sh/chart: {{ include "parley.chart" . }}
{{ include "parley.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: parley
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component. Call with (list $ "api"). */}}
{{- define "parley.componentSelectorLabels" -}}
{{ include "parley.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* Labels of one component. Call with (list $ "api"). */}}
{{- define "parley.componentLabels" -}}
{{ include "parley.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "parley.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "parley.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "parley.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: the existing one, or the chart's. */}}
{{- define "parley.secretName" -}}
{{- default (include "parley.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/*
The secret configuration keys (ENV_BINDINGS in libs/core/src/config/config.env.ts with
`secret: true`): the app refuses them in YAML, and so does the chart, at render time.
*/}}
{{- define "parley.secretEnv" -}}
DATABASE_URL=database.url
DATABASE_SSL_CA=database.ssl.ca
REDIS_URL=redis.url
METRICS_TOKEN=metrics.token
JWT_SIGNING_KEYS=security.jwt.signingKeys
API_KEY_PEPPER=security.apiKeys.pepper
MESSAGE_ENCRYPTION_KEYS=security.messageEncryptionKeys
BOOTSTRAP_ADMIN_PASSWORD=security.bootstrap.adminPassword
LLM_API_KEY=llm.apiKey
QDRANT_API_KEY=rag.qdrant.apiKey
AUDIO_API_KEY=audio.openai.apiKey
AUDIO_S3_ACCESS_KEY_ID=audio.storage.s3.accessKeyId
AUDIO_S3_SECRET_ACCESS_KEY=audio.storage.s3.secretAccessKey
{{- end }}

{{/* Environment variables the chart sets itself; `env` may not name them. */}}
{{- define "parley.reservedEnv" -}}
{{- list "APP_ENV" "CONFIG_DIR" "PORT" "WORKER_HEALTH_PORT" "DATABASE_MIGRATE_ON_BOOT" "WORKERS_IN_PROCESS" "WORKER_QUEUES" "METRICS_PORT" "OTEL_EXPORTER_OTLP_ENDPOINT" "OTEL_EXPORTER_OTLP_PROTOCOL" "OTEL_SERVICE_NAME" "OTEL_RESOURCE_ATTRIBUTES" | toJson }}
{{- end }}

{{/*
Render-time checks of what the schema cannot say. Included by every workload template, so
`helm template` and `helm install` fail with one message naming the value.
*/}}
{{- define "parley.validate" -}}
{{- if not (or .Values.secret.existingSecret .Values.secret.env.DATABASE_URL) }}
{{- fail "no database: set secret.env.DATABASE_URL (postgres://user:password@host:5432/db) or secret.existingSecret (a Secret holding DATABASE_URL). The chart runs Parley in services mode, so without one the migration Job and the pods could not start" }}
{{- end }}
{{- $secretNames := list }}
{{- range $line := splitList "\n" (include "parley.secretEnv" .) }}
{{- $pair := splitList "=" $line }}
{{- $secretNames = append $secretNames (index $pair 0) }}
{{- $node := $.Values.config }}
{{- $found := true }}
{{- range $key := splitList "." (index $pair 1) }}
{{- if and $found (kindIs "map" $node) (hasKey $node $key) }}
{{- $node = index $node $key }}
{{- else }}
{{- $found = false }}
{{- end }}
{{- end }}
{{- if and $found (not (kindIs "invalid" $node)) }}
{{- fail (printf "config.%s is a secret: set secret.env.%s (or put it in secret.existingSecret) instead" (index $pair 1) (index $pair 0)) }}
{{- end }}
{{- end }}
{{- $reserved := include "parley.reservedEnv" . | fromJsonArray }}
{{- range $where, $env := dict "env" .Values.env "api.env" .Values.api.env "worker.env" .Values.worker.env "migrations.env" .Values.migrations.env }}
{{- range $name, $_ := $env }}
{{- if has $name $secretNames }}
{{- fail (printf "%s.%s is a secret: set secret.env.%s (or put it in secret.existingSecret) instead" $where $name $name) }}
{{- end }}
{{- if has $name $reserved }}
{{- fail (printf "%s.%s is set by the chart; use the chart's value for it (appEnv, api.port, worker.healthPort, worker.queues, metrics.port, otel.*)" $where $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- if hasKey .Values.configFiles (printf "%s.yaml" .Values.appEnv) }}
{{- fail (printf "configFiles.%s.yaml is the file made from `config`; put those keys in config" .Values.appEnv) }}
{{- end }}
{{- if and .Values.worker.keda.enabled (not .Values.worker.enabled) }}
{{- fail "worker.keda.enabled needs worker.enabled" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (eq (int .Values.metrics.port) 0) }}
{{- if eq .Values.metrics.serviceMonitor.bearerToken "never" }}
{{- fail "metrics.serviceMonitor.bearerToken is never, but /metrics on the api's HTTP port needs METRICS_TOKEN: send it (auto), or set metrics.port" }}
{{- end }}
{{- if not (or .Values.secret.existingSecret .Values.secret.env.METRICS_TOKEN) }}
{{- fail "metrics.serviceMonitor: /metrics on the api's HTTP port needs a token: set secret.env.METRICS_TOKEN (or METRICS_TOKEN in secret.existingSecret), or metrics.port" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The app configuration file (<appEnv>.yaml) and the extra config files, as ConfigMap data. */}}
{{- define "parley.configData" -}}
{{ printf "%s.yaml" .Values.appEnv }}: |
  # Made by the Helm chart from .Values.config; read after /app/config/default.yaml.
  {{- if .Values.config }}
  {{- toYaml .Values.config | nindent 2 }}
  {{- end }}
{{- range $name, $content := .Values.configFiles }}
{{ $name }}: |
  {{- if kindIs "string" $content }}
  {{- $content | nindent 2 }}
  {{- else }}
  {{- toYaml $content | nindent 2 }}
  {{- end }}
{{- end }}
{{- end }}

{{/* The chart-managed Secret's data (non-empty secret.env values), base64-encoded. */}}
{{- define "parley.secretData" -}}
{{- range $name, $value := .Values.secret.env }}
{{- if $value }}
{{ $name }}: {{ $value | toString | b64enc | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Checksums on the pod templates, so a change of configuration or chart-managed secrets rolls the
pods (the config files are subPath mounts, which Kubernetes never refreshes in place). With
secret.existingSecret only its name is known here.
*/}}
{{- define "parley.checksums" -}}
checksum/config: {{ include "parley.configData" . | sha256sum }}
{{- if .Values.secret.existingSecret }}
checksum/secret: {{ .Values.secret.existingSecret | sha256sum }}
{{- else }}
checksum/secret: {{ include "parley.secretData" . | sha256sum }}
{{- end }}
{{- end }}

{{/* Redis key prefix the app uses (env, then config, then the app's default). */}}
{{- define "parley.redisKeyPrefix" -}}
{{- $config := dig "redis" "keyPrefix" "parley" .Values.config }}
{{- default $config (get .Values.env "REDIS_KEY_PREFIX") }}
{{- end }}

{{/*
Environment of a container. Call with (dict "root" $ "component" "api" "env" .Values.api.env).
Order: the chart's own variables, the shared `env`, the component's `env`, `extraEnv`; then
envFrom the Secret. DATABASE_URL is also referenced by name and not optional, so a pod whose
Secret lacks it does not start (CreateContainerConfigError naming the key) instead of falling
back to embedded mode.
*/}}
{{- define "parley.env" -}}
{{- $root := .root }}
{{- $v := $root.Values -}}
- name: APP_ENV
  value: {{ $v.appEnv | quote }}
- name: DATABASE_MIGRATE_ON_BOOT
  value: "false"
{{- if eq .component "api" }}
- name: PORT
  value: {{ $v.api.port | quote }}
- name: WORKERS_IN_PROCESS
  value: {{ (not $v.worker.enabled) | toString | quote }}
{{- end }}
{{- if eq .component "worker" }}
- name: WORKER_HEALTH_PORT
  value: {{ $v.worker.healthPort | quote }}
{{- with $v.worker.queues }}
- name: WORKER_QUEUES
  value: {{ join "," . | quote }}
{{- end }}
{{- end }}
{{- if and (gt (int $v.metrics.port) 0) (ne .component "migrate") }}
- name: METRICS_PORT
  value: {{ $v.metrics.port | quote }}
{{- end }}
{{- if $v.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $v.otel.endpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $v.otel.protocol | quote }}
{{- if $v.otel.serviceNamePrefix }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "%s-%s" $v.otel.serviceNamePrefix .component | quote }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- $attributes := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE)" "service.instance.id=$(K8S_POD_NAME)" }}
{{- range $key, $value := $v.otel.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%v" $key $value) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- end }}
{{- range $name, $value := merge (deepCopy .env) $v.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secretName }}
      key: DATABASE_URL
{{- end }}

{{- define "parley.envFrom" -}}
- secretRef:
    name: {{ .secretName }}
{{- with .root.Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volume mounts of a container: /tmp, the config files, /app/data (not for migrations). */}}
{{- define "parley.volumeMounts" -}}
{{- $v := .root.Values -}}
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: {{ printf "/app/config/%s.yaml" $v.appEnv }}
  subPath: {{ printf "%s.yaml" $v.appEnv }}
  readOnly: true
{{- range $name, $_ := $v.configFiles }}
- name: config
  mountPath: {{ printf "/app/config/%s" $name }}
  subPath: {{ $name }}
  readOnly: true
{{- end }}
{{- if ne .component "migrate" }}
- name: data
  mountPath: /app/data
{{- end }}
{{- with $v.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "parley.volumes" -}}
{{- $v := .root.Values -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ $v.tmpSizeLimit }}
- name: config
  configMap:
    name: {{ .configMap }}
{{- if ne .component "migrate" }}
- name: data
{{- if $v.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-data" (include "parley.fullname" .root)) $v.persistence.existingClaim }}
{{- else }}
  emptyDir:
    sizeLimit: {{ $v.persistence.emptyDirSizeLimit }}
{{- end }}
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* An HTTP probe. Call with (dict "path" "/health/live" "port" "http" "settings" .Values.api.probes.liveness). */}}
{{- define "parley.probe" -}}
httpGet:
  path: {{ .path }}
  port: {{ .port }}
{{ toYaml .settings }}
{{- end }}

{{/* The port /metrics is served on, by name, for a component's Service and the ServiceMonitor. */}}
{{- define "parley.metricsPortName" -}}
{{- if gt (int .root.Values.metrics.port) 0 }}metrics{{ else if eq .component "api" }}http{{ else }}health{{ end }}
{{- end }}

{{/* Egress rules of the NetworkPolicies with networkPolicy.restrictEgress: DNS, then networkPolicy.egress. */}}
{{- define "parley.egressRules" -}}
# DNS
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- with .Values.networkPolicy.egress }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Affinity of a component's pods: its `affinity` when set, else the pod anti-affinity preset
(Bitnami's podAntiAffinityPreset): `soft` prefers, `hard` requires, pods of the component on
different nodes; "" none. Call with (dict "root" $ "component" "api" "values" .Values.api).
*/}}
{{- define "parley.affinity" -}}
{{- if .values.affinity }}
{{- toYaml .values.affinity }}
{{- else if .values.podAntiAffinityPreset }}
{{- $term := dict "labelSelector" (dict "matchLabels" (include "parley.componentSelectorLabels" (list .root .component) | fromYaml)) "topologyKey" "kubernetes.io/hostname" }}
podAntiAffinity:
{{- if eq .values.podAntiAffinityPreset "hard" }}
  requiredDuringSchedulingIgnoredDuringExecution:
    {{- toYaml (list $term) | nindent 4 }}
{{- else }}
  preferredDuringSchedulingIgnoredDuringExecution:
    {{- toYaml (list (dict "weight" 1 "podAffinityTerm" $term)) | nindent 4 }}
{{- end }}
{{- end }}
{{- end }}

{{/* A list of values rendered as templates (strings or objects), as Bitnami's tplvalues.render. */}}
{{- define "parley.tplValues" -}}
{{- if kindIs "string" .value }}
{{- tpl .value .root }}
{{- else }}
{{- tpl (toYaml .value) .root }}
{{- end }}
{{- end }}
