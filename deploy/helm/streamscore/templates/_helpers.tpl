{{/* Names and labels. */}}
{{- define "streamscore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "streamscore.fullname" -}}
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

{{- define "streamscore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "streamscore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "streamscore.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "streamscore.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "streamscore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "streamscore.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The admin port, which the container, probes, Service and scrape share. */}}
{{- define "streamscore.adminPort" -}}
{{- required "config.admin.port is required: the probes, the Service and the scrape use it" .Values.config.admin.port | int }}
{{- end }}

{{/* HTTPS when the admin server has a certificate: from admin.tls, or a file of your own (config.admin.tlsCertFile). */}}
{{- define "streamscore.adminScheme" -}}
{{- if or .Values.admin.tls.existingSecret .Values.config.admin.tlsCertFile }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{- define "streamscore.adminTokenSecret" -}}
{{- if .Values.admin.token.existingSecret }}
{{- .Values.admin.token.existingSecret }}
{{- else if .Values.admin.token.create }}
{{- printf "%s-admin-token" (include "streamscore.fullname" .) }}
{{- end }}
{{- end }}

{{/* Where the mounted Secrets' files are. */}}
{{- define "streamscore.secretsDir" -}}/etc/streamscore/secrets{{- end }}

{{/*
One setting's value as an environment variable: lists comma-separated, numbers in plain decimal (Helm reads
YAML numbers as float64, which %v would print as 1.048576e+06), the rest as text.
*/}}
{{- define "streamscore.envValue" -}}
{{- if kindIs "slice" . }}
{{- join "," . }}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- toJson . }}
{{- else }}
{{- toString . }}
{{- end }}
{{- end }}

{{/*
The files the chart mounts from Secrets, ConfigMaps and volumes, each as the setting it fills:
setting path, environment variable, file path. Used by the ConfigMap (the variables) and the Deployment (the
mounts), so the two cannot disagree.
*/}}
{{- define "streamscore.mountedFiles" -}}
{{- $dir := include "streamscore.secretsDir" . }}
{{- $files := list }}
{{- with .Values.kafka.sasl.existingSecret }}
{{- $files = append $files (dict "setting" "kafka.saslPassword" "env" "STREAMSCORE_KAFKA_SASL_PASSWORD_FILE" "secret" . "key" $.Values.kafka.sasl.passwordKey "path" "kafka/sasl-password") }}
{{- end }}
{{- with .Values.kafka.tls.existingSecret }}
{{- if $.Values.kafka.tls.caKey }}
{{- $files = append $files (dict "setting" "kafka.sslCaFile" "env" "STREAMSCORE_KAFKA_SSL_CA_FILE" "secret" . "key" $.Values.kafka.tls.caKey "path" "kafka/ca.crt") }}
{{- end }}
{{- if $.Values.kafka.tls.certKey }}
{{- $files = append $files (dict "setting" "kafka.sslCertFile" "env" "STREAMSCORE_KAFKA_SSL_CERT_FILE" "secret" . "key" $.Values.kafka.tls.certKey "path" "kafka/tls.crt") }}
{{- $files = append $files (dict "setting" "kafka.sslKeyFile" "env" "STREAMSCORE_KAFKA_SSL_KEY_FILE" "secret" . "key" $.Values.kafka.tls.keyKey "path" "kafka/tls.key") }}
{{- end }}
{{- end }}
{{- with .Values.registry.auth.existingSecret }}
{{- $files = append $files (dict "setting" "registry.password" "env" "STREAMSCORE_REGISTRY_PASSWORD_FILE" "secret" . "key" $.Values.registry.auth.passwordKey "path" "registry/password") }}
{{- end }}
{{- with .Values.registry.tls.existingSecret }}
{{- if $.Values.registry.tls.caKey }}
{{- $files = append $files (dict "setting" "registry.caFile" "env" "STREAMSCORE_REGISTRY_CA_FILE" "secret" . "key" $.Values.registry.tls.caKey "path" "registry/ca.crt") }}
{{- end }}
{{- if $.Values.registry.tls.certKey }}
{{- $files = append $files (dict "setting" "registry.certFile" "env" "STREAMSCORE_REGISTRY_CERT_FILE" "secret" . "key" $.Values.registry.tls.certKey "path" "registry/tls.crt") }}
{{- $files = append $files (dict "setting" "registry.keyFile" "env" "STREAMSCORE_REGISTRY_KEY_FILE" "secret" . "key" $.Values.registry.tls.keyKey "path" "registry/tls.key") }}
{{- end }}
{{- end }}
{{- with (include "streamscore.adminTokenSecret" .) }}
{{- $files = append $files (dict "setting" "admin.token" "env" "STREAMSCORE_ADMIN_TOKEN_FILE" "secret" . "key" $.Values.admin.token.key "path" "admin/token") }}
{{- end }}
{{- with .Values.admin.tls.existingSecret }}
{{- $files = append $files (dict "setting" "admin.tlsCertFile" "env" "STREAMSCORE_ADMIN_TLS_CERT_FILE" "secret" . "key" $.Values.admin.tls.certKey "path" "admin/tls.crt") }}
{{- $files = append $files (dict "setting" "admin.tlsKeyFile" "env" "STREAMSCORE_ADMIN_TLS_KEY_FILE" "secret" . "key" $.Values.admin.tls.keyKey "path" "admin/tls.key") }}
{{- if $.Values.admin.tls.clientCaKey }}
{{- $files = append $files (dict "setting" "admin.tlsClientCaFile" "env" "STREAMSCORE_ADMIN_TLS_CLIENT_CA_FILE" "secret" . "key" $.Values.admin.tls.clientCaKey "path" "admin/client-ca.crt") }}
{{- end }}
{{- end }}
{{- with .Values.models.publicKey.existingConfigMap }}
{{- $files = append $files (dict "setting" "model.publicKeyFile" "env" "STREAMSCORE_MODEL_PUBLIC_KEY_FILE" "configMap" . "key" $.Values.models.publicKey.key "path" "model/signing.pub.pem") }}
{{- end }}
{{- range $files }}
{{- $_ := set . "file" (printf "%s/%s" $dir .path) }}
{{- end }}
{{- toJson (dict "files" $files) }}
{{- end }}

{{/*
Every STREAMSCORE_* variable of the ConfigMap, as JSON: one per non-null `config` entry (section SECTION, key
someKey -> STREAMSCORE_SECTION_SOME_KEY, the service's own rule), then the file variables of the mounted
Secrets and the model volume. A setting given both ways fails the render: which one wins would be a guess.
*/}}
{{- define "streamscore.env" -}}
{{- $env := dict }}
{{- $origin := dict }}
{{- range $section, $keys := .Values.config }}
{{- range $key, $value := $keys }}
{{- if not (kindIs "invalid" $value) }}
{{- $name := printf "STREAMSCORE_%s_%s" (upper $section) (regexReplaceAll "([A-Z])" $key "_${1}" | upper) }}
{{- $_ := set $env $name (include "streamscore.envValue" $value) }}
{{- $_ := set $origin (printf "%s.%s" $section $key) true }}
{{- end }}
{{- end }}
{{- end }}
{{- range (include "streamscore.mountedFiles" . | fromJson).files }}
{{- if hasKey $origin .setting }}
{{- fail (printf "config.%s is set, and the chart also sets it from %s %q (mounted at %s): leave config.%s empty" .setting (ternary "ConfigMap" "Secret" (hasKey . "configMap")) (default .secret .configMap) .file .setting) }}
{{- end }}
{{- $_ := set $env .env .file }}
{{- end }}
{{- if ne .Values.models.source "image" }}
{{- if hasKey $origin "model.repository" }}
{{- fail (printf "config.model.repository is set, and models.source %q mounts the repository at models.mountPath (%s): leave config.model.repository empty" .Values.models.source .Values.models.mountPath) }}
{{- end }}
{{- $_ := set $env "STREAMSCORE_MODEL_REPOSITORY" .Values.models.mountPath }}
{{- end }}
{{- toJson $env }}
{{- end }}

{{/* Render-time checks of settings that only make sense together. */}}
{{- define "streamscore.validate" -}}
{{- $kafka := .Values.config.kafka }}
{{- $mechanism := default "none" $kafka.saslMechanism }}
{{- if and .Values.kafka.sasl.existingSecret (eq $mechanism "none") }}
{{- fail "kafka.sasl.existingSecret is set but config.kafka.saslMechanism is not: set it (plain, scram-sha-256 or scram-sha-512)" }}
{{- end }}
{{- if and (ne $mechanism "none") (not .Values.kafka.sasl.existingSecret) }}
{{- fail (printf "config.kafka.saslMechanism is %s but kafka.sasl.existingSecret is empty: name the Secret holding the password" $mechanism) }}
{{- end }}
{{- if and (ne $mechanism "none") (not $kafka.saslUsername) }}
{{- fail (printf "config.kafka.saslMechanism is %s but config.kafka.saslUsername is empty" $mechanism) }}
{{- end }}
{{- if and .Values.kafka.tls.existingSecret (ne (toString $kafka.ssl) "true") }}
{{- fail "kafka.tls.existingSecret is set but config.kafka.ssl is not true: the files would be mounted and never used" }}
{{- end }}
{{- if ne (empty .Values.kafka.tls.certKey) (empty .Values.kafka.tls.keyKey) }}
{{- fail "kafka.tls.certKey and kafka.tls.keyKey go together (a client certificate and its key)" }}
{{- end }}
{{- if ne (empty .Values.registry.tls.certKey) (empty .Values.registry.tls.keyKey) }}
{{- fail "registry.tls.certKey and registry.tls.keyKey go together (a client certificate and its key)" }}
{{- end }}
{{- if and (eq .Values.models.source "persistentVolumeClaim") (not .Values.models.persistentVolumeClaim.existingClaim) (not .Values.models.persistentVolumeClaim.size) }}
{{- fail "models.persistentVolumeClaim: give existingClaim, or a size for the chart to make one" }}
{{- end }}
{{- if and (eq .Values.models.source "imageVolume") (not .Values.models.imageVolume.reference) }}
{{- fail "models.source is imageVolume but models.imageVolume.reference is empty" }}
{{- end }}
{{- if and (eq .Values.models.source "volume") (not .Values.models.volume) }}
{{- fail "models.source is volume but models.volume is empty: give a volume source, e.g. {nfs: {server: ..., path: ...}}" }}
{{- end }}
{{- if .Values.keda.enabled }}
{{- $max := int (default .Values.keda.partitions .Values.keda.maxReplicaCount) }}
{{- if gt (int .Values.keda.minReplicaCount) $max }}
{{- fail (printf "keda.minReplicaCount (%d) is above keda.maxReplicaCount (%d)" (int .Values.keda.minReplicaCount) $max) }}
{{- end }}
{{- end }}
{{- end }}
