"""CDK for Terraform app: one stack per environment."""
