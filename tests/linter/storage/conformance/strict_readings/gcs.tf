# Public access prevention enforced, uniform access on, a lifecycle rule that only changes the
# storage class; the allUsers grant is in iam.tf.
resource "google_storage_bucket" "site" {
  name                        = "acme-site"
  location                    = "EU"
  public_access_prevention    = "enforced"
  uniform_bucket_level_access = true
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type          = "SetStorageClass"
      storage_class = "ARCHIVE"
    }
  }
}
