resource "aws_s3_bucket" "frames" {
  bucket = "acme-frames"
}

data "aws_iam_policy_document" "frames" {
  statement {
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.frames.arn}/raw/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:role/reader"]
    }
  }
  statement {
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.frames.arn}/quarantine/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:role/labeller"]
    }
  }
}

resource "aws_s3_bucket_policy" "frames" {
  bucket = aws_s3_bucket.frames.id
  policy = data.aws_iam_policy_document.frames.json
}
