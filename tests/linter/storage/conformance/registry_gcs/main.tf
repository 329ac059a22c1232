module "simple" {
  source     = "terraform-google-modules/cloud-storage/google//modules/simple_bucket"
  version    = "~> 8.0"
  name       = "acme-simple"
  project_id = "acme"
  location   = "EU"
}

module "logged" {
  source                   = "terraform-google-modules/cloud-storage/google//modules/simple_bucket"
  version                  = "~> 8.0"
  name                     = "acme-logged"
  project_id               = "acme"
  location                 = "EU"
  public_access_prevention = "enforced"
  log_bucket               = "acme-audit"
  encryption = {
    default_kms_key_name = "projects/acme/locations/eu/keyRings/r/cryptoKeys/k"
  }
  lifecycle_rules = [{
    action = {
      type = "Delete"
    }
    condition = {
      age = 30
    }
  }]
}

module "open" {
  source                   = "terraform-google-modules/cloud-storage/google//modules/simple_bucket"
  version                  = "~> 8.0"
  name                     = "acme-open"
  project_id               = "acme"
  location                 = "EU"
  versioning               = false
  bucket_policy_only       = false
  public_access_prevention = "inherited"
  iam_members = [{
    role   = "roles/storage.objectViewer"
    member = "allUsers"
  }]
}

module "many" {
  source     = "terraform-google-modules/cloud-storage/google"
  version    = "~> 8.0"
  project_id = "acme"
  prefix     = "acme"
  names      = ["frames", "logs"]
  location   = "EU"
  versioning = {
    frames = true
  }
  public_access_prevention = "enforced"
}
