# *.auto.tfvars is loaded after terraform.tfvars: this value wins.
replica_region = "eu-north-1"
