{{/* A HorizontalPodAutoscaler. Call with (dict "root" $ "component" "api" "autoscaling" .Values.api.autoscaling). */}}
{{- define "parley.hpa" -}}
{{- $a := .autoscaling }}
{{- if not (or (gt (int $a.targetCPUUtilizationPercentage) 0) (gt (int $a.targetMemoryUtilizationPercentage) 0)) }}
{{- fail (printf "%s.autoscaling needs targetCPUUtilizationPercentage or targetMemoryUtilizationPercentage above 0" .component) }}
{{- end }}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) }}
{{- fail (printf "%s.autoscaling.minReplicas is above maxReplicas" .component) }}
{{- end }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "parley.componentName" (list .root .component) }}
  labels:
    {{- include "parley.componentLabels" (list .root .component) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "parley.componentName" (list .root .component) }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if gt (int $a.targetCPUUtilizationPercentage) 0 }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- end }}
    {{- if gt (int $a.targetMemoryUtilizationPercentage) 0 }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.targetMemoryUtilizationPercentage }}
    {{- end }}
  {{- with $a.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/* A PodDisruptionBudget. Call with (dict "root" $ "component" "api" "pdb" .Values.api.pdb). */}}
{{- define "parley.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "parley.componentName" (list .root .component) }}
  labels:
    {{- include "parley.componentLabels" (list .root .component) | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .pdb.minAvailable) }}
  minAvailable: {{ .pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ .pdb.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "parley.componentSelectorLabels" (list .root .component) | nindent 6 }}
{{- end }}
