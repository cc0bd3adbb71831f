{{/*
Credentials: one Secret (the chart's, or `secrets.existingSecret`) and the environment that
carries them into the containers. The chart's own Secret is checked before anything renders:
a credential that is empty or well known is refused, as the services refuse it at start.
*/}}

{{- define "imagesearch.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-credentials" (include "imagesearch.fullname" .)) -}}
{{- end -}}

{{/* Secret key -> values key, for every credential the chart manages. */}}
{{- define "imagesearch.secretKeys" -}}
auth-jwt-secret: authJwtSecret
signing-secret: signingSecret
admin-password: adminPassword
s3-access-key: s3AccessKey
s3-secret-key: s3SecretKey
redis-password: redisPassword
postgres-password: postgresPassword
{{- end -}}

{{/* Keys whose value is a signing key: long and random, never a word. */}}
{{- define "imagesearch.longSecrets" -}}
[auth-jwt-secret, signing-secret]
{{- end -}}

{{/* The same words the services refuse (shared/shared/exposure.py), plus any change-me... */}}
{{- define "imagesearch.placeholders" -}}
[minioadmin, changeme, password, secret, admin]
{{- end -}}

{{/* The chart's Secret data (empty with an existing Secret); fails on an unsafe credential. */}}
{{- define "imagesearch.secretData" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $values := .Values.secrets -}}
{{- $long := include "imagesearch.longSecrets" . | fromYamlArray -}}
{{- $placeholders := include "imagesearch.placeholders" . | fromYamlArray -}}
{{- range $key, $field := include "imagesearch.secretKeys" . | fromYaml }}
{{- $value := toString (get $values $field) -}}
{{- $word := $value | trim | lower -}}
{{- if eq $word "" -}}
{{- fail (printf "secrets.%s is required (or name a Secret in secrets.existingSecret)" $field) -}}
{{- end -}}
{{- if or (has $word $placeholders) (hasPrefix "change-me" $word) -}}
{{- fail (printf "secrets.%s is a well-known default or placeholder: choose a real one" $field) -}}
{{- end -}}
{{- if and (has $key $long) (lt (len $value) 32) -}}
{{- fail (printf "secrets.%s must have at least 32 characters" $field) -}}
{{- end -}}
{{- if and (has $key (list "redis-password" "postgres-password")) (not (regexMatch "^[A-Za-z0-9._~-]+$" $value)) -}}
{{- fail (printf "secrets.%s goes into a URL: use letters, digits and ._~- only" $field) -}}
{{- end }}
{{ $key }}: {{ $value | b64enc | quote }}
{{- end }}
{{- with $values.milvusToken }}
milvus-token: {{ . | b64enc | quote }}
{{- end }}
{{- end -}}
{{- end -}}

{{- define "imagesearch.secretRef" -}}
valueFrom:
  secretKeyRef:
    name: {{ .name | default (include "imagesearch.secretName" .root) }}
    key: {{ .key }}
    {{- if .optional }}
    optional: true
    {{- end }}
{{- end -}}

{{/* Object storage and Milvus credentials: every service that touches them. */}}
{{- define "imagesearch.env.storage" -}}
- name: MINIO__ACCESS_KEY
  {{- include "imagesearch.secretRef" (dict "root" . "key" "s3-access-key") | nindent 2 }}
- name: MINIO__SECRET_KEY
  {{- include "imagesearch.secretRef" (dict "root" . "key" "s3-secret-key") | nindent 2 }}
{{- end -}}

{{- define "imagesearch.env.milvus" -}}
- name: MILVUS__TOKEN
  {{- include "imagesearch.secretRef" (dict "root" . "key" "milvus-token" "optional" true) | nindent 2 }}
{{- end -}}

{{/* Redis: the password from the Secret, spliced into the URL by Kubernetes ($(VAR)). */}}
{{- define "imagesearch.env.redis" -}}
- name: REDIS_PASSWORD
  {{- include "imagesearch.secretRef" (dict "root" . "key" "redis-password") | nindent 2 }}
- name: REDIS__URL
  value: {{ printf "%s://:$(REDIS_PASSWORD)@%s:%d/%d" (ternary "rediss" "redis" .Values.redis.tls) .Values.redis.host (int .Values.redis.port) (int .Values.redis.db) | quote }}
{{- end -}}

{{/* The catalog: one PostgreSQL for every Python service. "secret" names another Secret than
the release's (the install hook's copy). */}}
{{- define "imagesearch.env.database" -}}
{{- $pg := .root.Values.postgres -}}
- name: POSTGRES_PASSWORD
  {{- include "imagesearch.secretRef" (dict "root" .root "key" "postgres-password" "name" .secret) | nindent 2 }}
- name: DATABASE__URL
  value: {{ printf "postgresql+psycopg://%s:$(POSTGRES_PASSWORD)@%s:%d/%s?sslmode=%s" $pg.user $pg.host (int $pg.port) $pg.database $pg.sslmode | quote }}
{{- end -}}

{{/* What both HTTP APIs share: the session key and the byte-link key. */}}
{{- define "imagesearch.env.api" -}}
- name: AUTH__JWT_SECRET
  {{- include "imagesearch.secretRef" (dict "root" . "key" "auth-jwt-secret") | nindent 2 }}
- name: SIGNING__SECRET
  {{- include "imagesearch.secretRef" (dict "root" . "key" "signing-secret") | nindent 2 }}
{{- end -}}
