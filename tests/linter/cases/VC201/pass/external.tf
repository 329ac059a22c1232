# Principal "*" narrowed to one VPC endpoint and one organisation: not public.
resource "aws_s3_bucket_policy" "vpc_only" {
  bucket = "acme-internal"
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::acme-internal/*"
      Condition = {
        StringEquals = { "aws:SourceVpce" = "vpce-1a2b3c", "aws:PrincipalOrgID" = "o-abc123" }
      }
    }]
  })
}

resource "google_storage_bucket_iam_member" "team" {
  bucket = "acme-elsewhere"
  role   = "roles/storage.objectViewer"
  member = "group:team@example.com"
}
