# Blocked while public_access_prevention stays "enforced"; live the moment it is set to "inherited".
resource "google_storage_bucket_iam_member" "site_public" {
  bucket = google_storage_bucket.site.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
