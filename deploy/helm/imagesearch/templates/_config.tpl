{{/*
The services' configuration files, as mounted at /etc/imagesearch (CONF_DIR).

Each file is the repository's conf/<file>.yaml (the chart's copy under files/conf, kept equal by
tools/sync_chart_files.py and checked by tests/deploy), without its credentials and local
addresses, then what this chart knows (the external parts' addresses, listeners on every
interface), then `config.<file>` from values. Credentials reach the containers only through the
Secret (templates/_secrets.tpl): a credential-looking key in `config` is refused.
*/}}

{{- define "imagesearch.confMount" -}}/etc/imagesearch{{- end -}}
{{- define "imagesearch.modelMount" -}}/models{{- end -}}
{{- define "imagesearch.cdnCacheMount" -}}/var/cache/cdnapi{{- end -}}

{{/* Keys that hold a credential, or a URL that carries one: never in a ConfigMap. */}}
{{- define "imagesearch.credentialKey" -}}
{{- if or (regexMatch "(secret|password|token|access_key)" .key) (has (printf "%s.%s" .section .key) (list "redis.url" "database.url" "rate_limit.storage_url")) -}}
true
{{- end -}}
{{- end -}}

{{/* What the chart sets in each file, from the typed values above `config`. */}}
{{- define "imagesearch.confDerived" -}}
{{- $v := .Values -}}
common.yaml:
  minio:
    endpoint: {{ $v.objectStorage.endpoint | quote }}
    bucket: {{ $v.objectStorage.bucket | quote }}
    secure: {{ $v.objectStorage.secure }}
    {{- with $v.objectStorage.publicEndpoint }}
    public_endpoint: {{ . | quote }}
    {{- end }}
  milvus:
    uri: {{ $v.milvus.uri | quote }}
    alias: {{ $v.milvus.alias | quote }}
  model:
    name: {{ $v.model.name | quote }}
    pretrained: {{ $v.model.pretrained | quote }}
    cache_dir: {{ include "imagesearch.modelMount" . }}
  log:
    level: {{ $v.log.level | quote }}
    json_output: true
  auth:
    public_read: {{ $v.auth.publicRead }}
    cookie_secure: {{ $v.auth.cookieSecure }}
ingestapi.yaml:
  http:
    host: 0.0.0.0
    forwarded_allow_ips: {{ $v.ingestapi.forwardedAllowIps | quote }}
searchapi.yaml:
  http:
    host: 0.0.0.0
    forwarded_allow_ips: {{ $v.searchapi.forwardedAllowIps | quote }}
ingestworker.yaml:
  worker:
    http_host: 0.0.0.0
cdnapi.yaml:
  http:
    host: 0.0.0.0
    trusted_proxies: {{ toJson $v.cdnapi.trustedProxies }}
  cache:
    disk_dir: {{ include "imagesearch.cdnCacheMount" . }}
{{- end -}}

{{/* The chart's copy of conf/<file> without its credentials, as YAML: (dict "root" $ "file" "common.yaml") */}}
{{- define "imagesearch.confBase" -}}
{{- $base := .root.Files.Get (printf "files/conf/%s" .file) | fromYaml | default dict -}}
{{- if hasKey $base "Error" -}}
{{- fail (printf "files/conf/%s: %s" .file $base.Error) -}}
{{- end -}}
{{- $kept := dict -}}
{{- range $section, $settings := $base }}
{{- if kindIs "map" $settings }}
{{- $keys := dict -}}
{{- range $key, $value := $settings }}
{{- if not (include "imagesearch.credentialKey" (dict "section" $section "key" $key)) }}
{{- $_ := set $keys $key $value -}}
{{- end }}
{{- end }}
{{- if $keys }}{{ $_ := set $kept $section $keys }}{{ end -}}
{{- else }}
{{- $_ := set $kept $section $settings -}}
{{- end }}
{{- end }}
{{- toYaml $kept -}}
{{- end -}}

{{/* `config.<name>` from values, as YAML; fails on a credential: (dict "root" $ "name" "common") */}}
{{- define "imagesearch.confExtra" -}}
{{- $extra := get .root.Values.config .name | default dict -}}
{{- range $section, $settings := $extra }}
{{- if kindIs "map" $settings }}
{{- range $key, $_ := $settings }}
{{- if include "imagesearch.credentialKey" (dict "section" $section "key" $key) }}
{{- fail (printf "config.%s.%s.%s is a credential: put it in secrets (or secrets.existingSecret)" $.name $section $key) -}}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $extra -}}
{{- end -}}

{{/* file name -> settings, as YAML; templates/config.yaml writes one key per file. */}}
{{- define "imagesearch.confFiles" -}}
{{- $derived := include "imagesearch.confDerived" . | fromYaml -}}
{{- $files := dict -}}
{{- range $name := list "common" "ingestapi" "searchapi" "ingestworker" "cdnapi" }}
{{- $file := printf "%s.yaml" $name -}}
{{- $base := include "imagesearch.confBase" (dict "root" $ "file" $file) | fromYaml -}}
{{- $extra := include "imagesearch.confExtra" (dict "root" $ "name" $name) | fromYaml -}}
{{- $_ := set $files $file (mergeOverwrite $base (get $derived $file | default dict) $extra) -}}
{{- end }}
{{- toYaml $files -}}
{{- end -}}
