variable "name" {
  type = string
}

variable "versioning" {
  type    = bool
  default = true
}

variable "public_read" {
  type    = bool
  default = false
}

variable "sse_algorithm" {
  type = string
}
