package main

// Go types for the custom resources the chart renders, so they can be decoded strictly like the built-in
// kinds. Importing the projects' own API modules would drag in their whole dependency trees (KEDA's is
// hundreds of modules), so the types are written here instead, mirroring the upstream Go types field for
// field, with the same JSON names:
//
//   - KEDA v2 apis/keda/v1alpha1 (scaledobject_types.go, scaletriggers_types.go,
//     triggerauthentication_types.go): ScaledObject, TriggerAuthentication. Status and the cloud secret
//     stores (HashiCorp Vault, Azure Key Vault, GCP and AWS secret managers) are left out, so a chart that
//     renders them fails here until they are added.
//   - prometheus-operator pkg/apis/monitoring/v1 (servicemonitor_types.go, types.go): ServiceMonitor, with
//     the endpoint fields a scrape of the admin port can use; (prometheusrule_types.go) PrometheusRule.
//
// Kubernetes' own types (label selectors, HPA behaviour, secret key selectors) are used where upstream uses
// them.

import (
	"encoding/json"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ScaledObject is keda.sh/v1alpha1 ScaledObject.
type ScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ScaledObjectSpec `json:"spec"`
}

type ScaledObjectSpec struct {
	ScaleTargetRef        *ScaleTarget    `json:"scaleTargetRef"`
	PollingInterval       *int32          `json:"pollingInterval,omitempty"`
	InitialCooldownPeriod *int32          `json:"initialCooldownPeriod,omitempty"`
	CooldownPeriod        *int32          `json:"cooldownPeriod,omitempty"`
	IdleReplicaCount      *int32          `json:"idleReplicaCount,omitempty"`
	MinReplicaCount       *int32          `json:"minReplicaCount,omitempty"`
	MaxReplicaCount       *int32          `json:"maxReplicaCount,omitempty"`
	Advanced              *AdvancedConfig `json:"advanced,omitempty"`
	Triggers              []ScaleTriggers `json:"triggers"`
	Fallback              *Fallback       `json:"fallback,omitempty"`
}

type Fallback struct {
	FailureThreshold int32  `json:"failureThreshold"`
	Replicas         int32  `json:"replicas"`
	Behavior         string `json:"behavior,omitempty"`
}

type AdvancedConfig struct {
	HorizontalPodAutoscalerConfig *HorizontalPodAutoscalerConfig `json:"horizontalPodAutoscalerConfig,omitempty"`
	RestoreToOriginalReplicaCount bool                           `json:"restoreToOriginalReplicaCount,omitempty"`
	ScalingModifiers              ScalingModifiers               `json:"scalingModifiers,omitempty"`
}

type ScalingModifiers struct {
	Formula          string                         `json:"formula,omitempty"`
	Target           string                         `json:"target,omitempty"`
	ActivationTarget string                         `json:"activationTarget,omitempty"`
	MetricType       autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

type HorizontalPodAutoscalerConfig struct {
	Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
	Name     string                                         `json:"name,omitempty"`
}

type ScaleTarget struct {
	Name                   string `json:"name"`
	APIVersion             string `json:"apiVersion,omitempty"`
	Kind                   string `json:"kind,omitempty"`
	EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
}

type ScaleTriggers struct {
	Type              string                         `json:"type"`
	Name              string                         `json:"name,omitempty"`
	UseCachedMetrics  bool                           `json:"useCachedMetrics,omitempty"`
	Metadata          map[string]string              `json:"metadata"`
	AuthenticationRef *AuthenticationRef             `json:"authenticationRef,omitempty"`
	MetricType        autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
}

type AuthenticationRef struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
}

// kafkaTriggerMetadata is the metadata the `kafka` scaler reads (KEDA's docs, Apache Kafka scaler). Upstream
// the metadata is a map[string]string, so a misspelt key (lagTreshold) is silently ignored and its default
// used; decoding it strictly into this struct catches that. Every value is a string, as in the CRD.
type kafkaTriggerMetadata struct {
	BootstrapServers                   string `json:"bootstrapServers"`
	ConsumerGroup                      string `json:"consumerGroup"`
	Topic                              string `json:"topic,omitempty"`
	LagThreshold                       string `json:"lagThreshold,omitempty"`
	ActivationLagThreshold             string `json:"activationLagThreshold,omitempty"`
	OffsetResetPolicy                  string `json:"offsetResetPolicy,omitempty"`
	AllowIdleConsumers                 string `json:"allowIdleConsumers,omitempty"`
	ScaleToZeroOnInvalidOffset         string `json:"scaleToZeroOnInvalidOffset,omitempty"`
	ExcludePersistentLag               string `json:"excludePersistentLag,omitempty"`
	LimitToPartitionsWithLag           string `json:"limitToPartitionsWithLag,omitempty"`
	EnsureEvenDistributionOfPartitions string `json:"ensureEvenDistributionOfPartitions,omitempty"`
	Version                            string `json:"version,omitempty"`
	PartitionLimitation                string `json:"partitionLimitation,omitempty"`
	SASL                               string `json:"sasl,omitempty"`
	TLS                                string `json:"tls,omitempty"`
	UnsafeSsl                          string `json:"unsafeSsl,omitempty"`
}

// UnmarshalJSON decodes the spec strictly (a custom decoder is on its own: the caller's strictness does not
// reach inside it), then the metadata of each kafka trigger.
func (s *ScaledObjectSpec) UnmarshalJSON(data []byte) error {
	type plain ScaledObjectSpec
	if err := jsonStrict(data, (*plain)(s)); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	for i, trigger := range s.Triggers {
		if trigger.Type != "kafka" {
			continue
		}
		raw, err := json.Marshal(trigger.Metadata)
		if err != nil {
			return err
		}
		if err := jsonStrict(raw, &kafkaTriggerMetadata{}); err != nil {
			return fmt.Errorf("spec.triggers[%d].metadata (kafka scaler): %w", i, err)
		}
	}
	return nil
}

// TriggerAuthentication is keda.sh/v1alpha1 TriggerAuthentication.
type TriggerAuthentication struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TriggerAuthenticationSpec `json:"spec"`
}

type TriggerAuthenticationSpec struct {
	PodIdentity        *AuthPodIdentity         `json:"podIdentity,omitempty"`
	SecretTargetRef    []AuthSecretTargetRef    `json:"secretTargetRef,omitempty"`
	ConfigMapTargetRef []AuthConfigMapTargetRef `json:"configMapTargetRef,omitempty"`
	Env                []AuthEnvironment        `json:"env,omitempty"`
}

type AuthPodIdentity struct {
	Provider              string  `json:"provider"`
	IdentityID            *string `json:"identityId"`
	IdentityTenantID      *string `json:"identityTenantId"`
	IdentityAuthorityHost *string `json:"identityAuthorityHost"`
	RoleArn               *string `json:"roleArn"`
	IdentityOwner         *string `json:"identityOwner"`
}

type AuthTargetRef struct {
	Parameter string `json:"parameter"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

type AuthSecretTargetRef AuthTargetRef
type AuthConfigMapTargetRef AuthTargetRef

type AuthEnvironment struct {
	Parameter     string `json:"parameter"`
	Name          string `json:"name"`
	ContainerName string `json:"containerName,omitempty"`
}

// ServiceMonitor is monitoring.coreos.com/v1 ServiceMonitor.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ServiceMonitorSpec `json:"spec"`
}

type ServiceMonitorSpec struct {
	JobLabel              string               `json:"jobLabel,omitempty"`
	TargetLabels          []string             `json:"targetLabels,omitempty"`
	PodTargetLabels       []string             `json:"podTargetLabels,omitempty"`
	Endpoints             []Endpoint           `json:"endpoints"`
	Selector              metav1.LabelSelector `json:"selector"`
	NamespaceSelector     NamespaceSelector    `json:"namespaceSelector,omitempty"`
	SampleLimit           *uint64              `json:"sampleLimit,omitempty"`
	TargetLimit           *uint64              `json:"targetLimit,omitempty"`
	LabelLimit            *uint64              `json:"labelLimit,omitempty"`
	LabelNameLengthLimit  *uint64              `json:"labelNameLengthLimit,omitempty"`
	LabelValueLengthLimit *uint64              `json:"labelValueLengthLimit,omitempty"`
	KeepDroppedTargets    *uint64              `json:"keepDroppedTargets,omitempty"`
	ScrapeClassName       *string              `json:"scrapeClass,omitempty"`
}

type NamespaceSelector struct {
	Any        bool     `json:"any,omitempty"`
	MatchNames []string `json:"matchNames,omitempty"`
}

type Endpoint struct {
	Port              string                    `json:"port,omitempty"`
	TargetPort        *intstr.IntOrString       `json:"targetPort,omitempty"`
	Path              string                    `json:"path,omitempty"`
	Scheme            string                    `json:"scheme,omitempty"`
	Params            map[string][]string       `json:"params,omitempty"`
	Interval          string                    `json:"interval,omitempty"`
	ScrapeTimeout     string                    `json:"scrapeTimeout,omitempty"`
	TLSConfig         *TLSConfig                `json:"tlsConfig,omitempty"`
	BearerTokenSecret *corev1.SecretKeySelector `json:"bearerTokenSecret,omitempty"`
	HonorLabels       bool                      `json:"honorLabels,omitempty"`
	HonorTimestamps   *bool                     `json:"honorTimestamps,omitempty"`
	FollowRedirects   *bool                     `json:"followRedirects,omitempty"`
	EnableHTTP2       *bool                     `json:"enableHttp2,omitempty"`
	FilterRunning     *bool                     `json:"filterRunning,omitempty"`
	MetricRelabelings []RelabelConfig           `json:"metricRelabelings,omitempty"`
	Relabelings       []RelabelConfig           `json:"relabelings,omitempty"`
}

// TLSConfig is the operator's TLSConfig: SafeTLSConfig inlined, plus file paths in the Prometheus pod.
type TLSConfig struct {
	CA                 *SecretOrConfigMap        `json:"ca,omitempty"`
	Cert               *SecretOrConfigMap        `json:"cert,omitempty"`
	KeySecret          *corev1.SecretKeySelector `json:"keySecret,omitempty"`
	ServerName         *string                   `json:"serverName,omitempty"`
	InsecureSkipVerify *bool                     `json:"insecureSkipVerify,omitempty"`
	MinVersion         *string                   `json:"minVersion,omitempty"`
	MaxVersion         *string                   `json:"maxVersion,omitempty"`
	CAFile             string                    `json:"caFile,omitempty"`
	CertFile           string                    `json:"certFile,omitempty"`
	KeyFile            string                    `json:"keyFile,omitempty"`
}

// PrometheusRule is monitoring.coreos.com/v1 PrometheusRule.
type PrometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              PrometheusRuleSpec `json:"spec"`
}

type PrometheusRuleSpec struct {
	Groups []RuleGroup `json:"groups,omitempty"`
}

type RuleGroup struct {
	Name                    string            `json:"name"`
	Labels                  map[string]string `json:"labels,omitempty"`
	Interval                *string           `json:"interval,omitempty"`
	QueryOffset             *string           `json:"query_offset,omitempty"`
	Rules                   []Rule            `json:"rules,omitempty"`
	PartialResponseStrategy string            `json:"partial_response_strategy,omitempty"`
	Limit                   *int              `json:"limit,omitempty"`
}

type Rule struct {
	Record        string             `json:"record,omitempty"`
	Alert         string             `json:"alert,omitempty"`
	Expr          intstr.IntOrString `json:"expr"`
	For           *string            `json:"for,omitempty"`
	KeepFiringFor *string            `json:"keep_firing_for,omitempty"`
	Labels        map[string]string  `json:"labels,omitempty"`
	Annotations   map[string]string  `json:"annotations,omitempty"`
}

type SecretOrConfigMap struct {
	Secret    *corev1.SecretKeySelector    `json:"secret,omitempty"`
	ConfigMap *corev1.ConfigMapKeySelector `json:"configMap,omitempty"`
}

type RelabelConfig struct {
	SourceLabels []string `json:"sourceLabels,omitempty"`
	Separator    *string  `json:"separator,omitempty"`
	TargetLabel  string   `json:"targetLabel,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	Modulus      uint64   `json:"modulus,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}
