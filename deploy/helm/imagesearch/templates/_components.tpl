{{/* The Deployments this release runs, as YAML: component name -> its values. */}}
{{- define "imagesearch.components" -}}
{{- $v := .Values -}}
ingestapi: {{ toJson $v.ingestapi }}
searchapi: {{ toJson $v.searchapi }}
cdnapi: {{ toJson $v.cdnapi }}
frontend: {{ toJson $v.frontend }}
{{- if $v.workers.cpu.enabled }}
ingestworker: {{ toJson $v.workers.cpu }}
{{- end }}
{{- if $v.workers.gpu.enabled }}
ingestworker-gpu: {{ toJson $v.workers.gpu }}
{{- end }}
{{- end -}}

{{/* The HTTP APIs: autoscaled, reached only through the front door. */}}
{{- define "imagesearch.apis" -}}
[ingestapi, searchapi, cdnapi]
{{- end -}}
