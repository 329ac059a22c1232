# veil:ignore VC203 reason="test fixture, no data"
locals {
  x = 1
}
