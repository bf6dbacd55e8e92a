package main

import (
	"errors"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kinds maps each apiVersion and kind the chart may render to the Go type it must decode into. A kind
// missing here fails the check: a new kind in the chart needs its type added, or it would go unchecked.
var kinds = map[string]func() interface{}{
	"apps/v1/Deployment":                      func() interface{} { return &appsv1.Deployment{} },
	"v1/ConfigMap":                            func() interface{} { return &corev1.ConfigMap{} },
	"v1/Secret":                               func() interface{} { return &corev1.Secret{} },
	"v1/Service":                              func() interface{} { return &corev1.Service{} },
	"v1/ServiceAccount":                       func() interface{} { return &corev1.ServiceAccount{} },
	"v1/PersistentVolumeClaim":                func() interface{} { return &corev1.PersistentVolumeClaim{} },
	"policy/v1/PodDisruptionBudget":           func() interface{} { return &policyv1.PodDisruptionBudget{} },
	"monitoring.coreos.com/v1/ServiceMonitor": func() interface{} { return &ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() interface{} { return &PrometheusRule{} },
	"keda.sh/v1alpha1/ScaledObject":           func() interface{} { return &ScaledObject{} },
	"keda.sh/v1alpha1/TriggerAuthentication":  func() interface{} { return &TriggerAuthentication{} },
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// decodeStrict fills obj's identity from its manifest and decodes it into the type of its kind the way the
// API server's strict field validation does: YAML to JSON refusing duplicate keys (sigs.k8s.io/yaml's
// YAMLToJSONStrict), then JSON into the Go type with sigs.k8s.io/json's UnmarshalStrict, which is
// encoding/json's DisallowUnknownFields made case-sensitive and reporting each unknown or duplicate field
// with its full path (spec.template.spec.containers[0].ports[0].containerPrt).
func decodeStrict(obj *object) {
	var head header
	if err := yaml.Unmarshal([]byte(obj.Manifest), &head); err != nil {
		obj.Error = fmt.Sprintf("not valid YAML: %v", err)
		return
	}
	obj.APIVersion, obj.Kind, obj.Name = head.APIVersion, head.Kind, head.Metadata.Name
	if obj.APIVersion == "" || obj.Kind == "" || obj.Name == "" {
		obj.Error = "apiVersion, kind and metadata.name are required"
		return
	}
	newObject, known := kinds[obj.APIVersion+"/"+obj.Kind]
	if !known {
		obj.Error = fmt.Sprintf("no Go type for %s %s: add one to scripts/helmcheck/decode.go", obj.APIVersion, obj.Kind)
		return
	}
	target := newObject()
	obj.Type = reflect.TypeOf(target).Elem().String()
	if err := unmarshalStrict([]byte(obj.Manifest), target); err != nil {
		obj.Error = err.Error()
	}
}

func unmarshalStrict(manifest []byte, target interface{}) error {
	data, err := yaml.YAMLToJSONStrict(manifest)
	if err != nil {
		return err
	}
	return jsonStrict(data, target)
}

// jsonStrict decodes JSON into target, failing on unknown and duplicate fields as well as on type errors.
func jsonStrict(data []byte, target interface{}) error {
	strictErrors, err := kjson.UnmarshalStrict(data, target, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrors...)
}
