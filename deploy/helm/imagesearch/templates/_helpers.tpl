{{/*
Names, labels, images and the pod hardening every workload shares.
*/}}

{{- define "imagesearch.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A component's object name: (dict "root" $ "component" "ingestapi") */}}
{{- define "imagesearch.name" -}}
{{- printf "%s-%s" (include "imagesearch.fullname" .root) .component -}}
{{- end -}}

{{- define "imagesearch.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "imagesearch.labels" -}}
{{ include "imagesearch.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Every pod of this release, whatever its component (the NetworkPolicies' default deny). */}}
{{- define "imagesearch.releaseSelector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* registry/repository:tag, refusing an empty or moving tag: (dict "root" $ "image" .image) */}}
{{- define "imagesearch.image" -}}
{{- $registry := .image.registry | default .root.Values.image.registry -}}
{{- $tag := toString (.image.tag | default .root.Values.image.tag) -}}
{{- if or (eq $tag "") (eq $tag "latest") -}}
{{- fail (printf "image %s: pin a tag (image.tag); empty and latest are refused" .image.repository) -}}
{{- end -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .image.repository $tag -}}
{{- end -}}

{{/* What every pod spec starts with: its identity (none of them calls the Kubernetes API),
image pull credentials and pod-level hardening: (dict "root" $ "uid" 10001 "account" true) */}}
{{- define "imagesearch.podCommon" -}}
{{- if .account -}}
serviceAccountName: {{ include "imagesearch.fullname" .root }}
{{ end -}}
automountServiceAccountToken: false
{{- with .root.Values.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{ include "imagesearch.podSecurityContext" .uid }}
{{- end -}}

{{/* Pod-level hardening; the argument is the uid the image runs as. */}}
{{- define "imagesearch.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ . }}
  runAsGroup: {{ . }}
  fsGroup: {{ . }}
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "imagesearch.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  capabilities:
    drop: [ALL]
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* The uids the images run as (docker/*.Dockerfile). */}}
{{- define "imagesearch.pythonUid" -}}10001{{- end -}}
{{- define "imagesearch.cdnapiUid" -}}65532{{- end -}}
{{- define "imagesearch.nginxUid" -}}101{{- end -}}

{{/* Scheduling knobs of one component's values, as YAML; empty when it sets none. */}}
{{- define "imagesearch.scheduling" -}}
{{- $set := dict -}}
{{- range $knob := list "nodeSelector" "tolerations" "affinity" }}
{{- with get $ $knob }}{{ $_ := set $set $knob . }}{{ end }}
{{- end }}
{{- if $set }}{{ toYaml $set }}{{ end -}}
{{- end -}}

{{/* Probes on the ops endpoints: (dict "port" "http" "startupSeconds" 300), and "ready" for a
readiness path other than /readyz (the front door has /healthz only). */}}
{{- define "imagesearch.probes" -}}
startupProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 10
  failureThreshold: {{ div .startupSeconds 10 }}
livenessProbe:
  httpGet: {path: /healthz, port: {{ .port }}}
  periodSeconds: 15
  timeoutSeconds: 5
  failureThreshold: 4
readinessProbe:
  httpGet: {path: {{ .ready | default "/readyz" }}, port: {{ .port }}}
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}

{{/* Roll the pods when their configuration or the chart's Secret changes. */}}
{{- define "imagesearch.checksums" -}}
checksum/config: {{ include "imagesearch.confFiles" . | sha256sum }}
checksum/secret: {{ include "imagesearch.secretData" . | sha256sum }}
{{- end -}}

{{/* A pre-install/pre-upgrade hook, deleted once it succeeded: (dict "weight" -10) */}}
{{- define "imagesearch.hookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}


{{/* Nginx's realip settings for the front door behind the Ingress controller; empty when off. */}}
{{- define "imagesearch.frontendRealIp" -}}
{{- with .Values.frontend.realIpFrom -}}
# The client's address from the Ingress controller's X-Forwarded-For (ngx_http_realip_module).
{{- range . }}
set_real_ip_from {{ . }};
{{- end }}
real_ip_header X-Forwarded-For;
real_ip_recursive on;
{{- end -}}
{{- end -}}
