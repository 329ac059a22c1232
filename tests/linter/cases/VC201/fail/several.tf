# One bucket opened by several grants: each grant is its own finding, at its own resource.
resource "google_storage_bucket" "stills" {
  name     = "acme-stills"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "anyone" {
  bucket = google_storage_bucket.stills.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_iam_member" "any_google_account" {
  bucket = google_storage_bucket.stills.name
  role   = "roles/storage.objectViewer"
  member = "allAuthenticatedUsers"
}

resource "aws_s3_bucket" "posters" {
  bucket = "acme-posters"
}

resource "aws_s3_bucket_acl" "posters" {
  bucket = aws_s3_bucket.posters.id
  acl    = "public-read"
}

resource "aws_s3_bucket_policy" "posters" {
  bucket = aws_s3_bucket.posters.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::acme-posters/*"
    }]
  })
}
