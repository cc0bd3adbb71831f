{{/*
What the Python pods share: their environment, the writable volumes a read-only root needs,
and the model cache with the init container that fills it.
*/}}

{{/* The port a service listens on, read from its settings file: (dict "root" $ "service" "ingestapi") */}}
{{- define "imagesearch.port" -}}
{{- $files := include "imagesearch.confFiles" .root | fromYaml -}}
{{- $conf := index $files (printf "%s.yaml" .service) -}}
{{- if eq .service "ingestworker" -}}
{{- int $conf.worker.http_port -}}
{{- else -}}
{{- int $conf.http.port -}}
{{- end -}}
{{- end -}}

{{/* Every Python service: its settings files, then the external parts' credentials. */}}
{{- define "imagesearch.env.python" -}}
- name: CONF_DIR
  value: {{ include "imagesearch.confMount" . }}
{{ include "imagesearch.env.storage" . }}
{{ include "imagesearch.env.milvus" . }}
{{ include "imagesearch.env.redis" . }}
{{ include "imagesearch.env.database" (dict "root" .) }}
{{- end -}}

{{/* The services that embed read the weights the init container left (no hub at start). */}}
{{- define "imagesearch.env.model" -}}
- name: HF_HOME
  value: {{ include "imagesearch.modelMount" . }}/huggingface
- name: HF_HUB_OFFLINE
  value: "1"
{{- end -}}

{{- define "imagesearch.modelClaim" -}}
{{- .Values.modelCache.persistence.existingClaim | default (include "imagesearch.name" (dict "root" . "component" "models")) -}}
{{- end -}}

{{/* Volumes of a Python pod: (dict "root" $ "model" true) */}}
{{- define "imagesearch.pythonVolumes" -}}
- name: conf
  configMap:
    name: {{ include "imagesearch.name" (dict "root" .root "component" "conf") }}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- if .model }}
- name: models
  {{- if .root.Values.modelCache.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "imagesearch.modelClaim" .root }}
  {{- else }}
  emptyDir:
    sizeLimit: {{ .root.Values.modelCache.emptyDirSizeLimit }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "imagesearch.pythonMounts" -}}
- name: conf
  mountPath: {{ include "imagesearch.confMount" .root }}
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if .model }}
- name: models
  mountPath: {{ include "imagesearch.modelMount" .root }}
{{- end }}
{{- end -}}

{{/* Fetch the configured model into the cache, before the service starts (worker image). */}}
{{- define "imagesearch.prefetchInit" -}}
{{- if .Values.modelCache.prefetch -}}
initContainers:
  - name: prefetch
    image: {{ include "imagesearch.image" (dict "root" . "image" .Values.workers.image) }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: ["python", "-m", "ingestworker.prefetch"]
    env:
      - name: CONF_DIR
        value: {{ include "imagesearch.confMount" . }}
      - name: HF_HOME
        value: {{ include "imagesearch.modelMount" . }}/huggingface
    resources:
      {{- /* on a CPU it also exports the towers for onnxruntime: ViT-B-32 peaks at 2.6 GB */}}
      requests: {cpu: 100m, memory: 512Mi}
      limits: {cpu: "1", memory: 3Gi}
    {{- include "imagesearch.containerSecurityContext" . | nindent 4 }}
    volumeMounts:
      {{- include "imagesearch.pythonMounts" (dict "root" . "model" true) | nindent 6 }}
{{- end }}
{{- end -}}
