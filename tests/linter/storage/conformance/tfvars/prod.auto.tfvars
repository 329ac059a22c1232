# auto.tfvars files come after terraform.tfvars: their values win
versioning_status = "Enabled"
acl               = "public-read"
