resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

resource "aws_s3_bucket_policy" "frames" {
  bucket = aws_s3_bucket.frames.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = "${aws_s3_bucket.frames.arn}/*"
      Condition = { NumericGreaterThan = { "s3:signatureAge" = "600000" } }
    }]
  })
}
