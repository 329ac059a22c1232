resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_iam_role_policy" "admin" {
  role = aws_iam_role.admin.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "s3:*"
      Resource = "${aws_s3_bucket.frames.arn}/*"
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
      Resource = "${aws_s3_bucket.frames.arn}/redacted/*"
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
  member = "group:reader@example.com"
  condition {
    title      = "redacted only"
    expression = "resource.name.startsWith(\"projects/_/buckets/acme-clips/objects/redacted/\")"
  }
}
