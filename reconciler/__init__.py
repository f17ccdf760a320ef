"""ovhkube: declarative reconciler for OVHcloud Managed Kubernetes cluster settings."""

__version__ = "0.1.0"
