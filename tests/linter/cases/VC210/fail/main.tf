resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_policy" "frames" {
  bucket = aws_s3_bucket.frames.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::123456789012:role/analytics" }
      Action    = ["s3:GetObject"]
      Resource  = "${aws_s3_bucket.frames.arn}/*"
    }]
  })
}

resource "aws_iam_role_policy" "reader" {
  role = aws_iam_role.reader.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:GetObject"
      Resource = "arn:aws:s3:::acme-frames/*"
    }]
  })
}

resource "google_storage_bucket" "clips" {
  name     = "acme-clips"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "viewer" {
  bucket = google_storage_bucket.clips.name
  role   = "roles/storage.objectViewer"
  member = "group:ml-team@example.com"
}
