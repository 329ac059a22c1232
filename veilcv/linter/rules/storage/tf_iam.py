"""IAM helpers the providers share: policy statements, principals, policy roles, key prefixes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from veilcv.linter.rules.storage.hcl import Block, json_value, reference

if TYPE_CHECKING:
    from veilcv.linter.rules.storage.terraform import Module


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def policy_statements(module: Module, value: Any) -> list[dict[str, Any]]:
    """Statements of a policy attribute: a jsonencode object, JSON text, or a policy document."""
    if isinstance(value, str) and value.startswith("${data.aws_iam_policy_document."):
        name = value[len("${data.aws_iam_policy_document.") :].split(".")[0]
        documents = module.data.get("aws_iam_policy_document", {})
        # an instance (`x["raw"]`), else the document itself (`x[each.key]` of an undetermined for_each)
        found = documents.get(name) or documents.get(name.split("[")[0])
        return _document_statements(found[1]) if found else []
    doc = json_value(value)
    if not isinstance(doc, dict):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]


def _document_statements(doc: Block) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for st in doc.all("statement"):
        principal: dict[str, list[Any]] = {}
        for p in st.all("principals"):
            principal.setdefault(str(p.get("type", "AWS")), []).extend(as_list(p.get("identifiers")))
        condition: dict[str, dict[str, Any]] = {}
        for c in st.all("condition"):
            condition.setdefault(str(c.get("test")), {})[str(c.get("variable"))] = c.get("values")
        out.append(
            {
                "Effect": st.get("effect", "Allow"),
                "Action": as_list(st.get("actions")),
                "Resource": as_list(st.get("resources")),
                "Principal": principal or None,
                "Condition": condition,
            }
        )
    return out


def principals(statement: dict[str, Any]) -> list[str]:
    p = statement.get("Principal")
    if p is None:
        return []
    if isinstance(p, str):
        return [p]
    if isinstance(p, dict):
        return [str(i) for v in p.values() for i in as_list(v)]
    return [str(i) for i in as_list(p)]


_READ_ACTIONS = ("s3:getobject", "s3:get*", "s3:*", "*", "s3:getobjectversion")


def reads_objects(statement: dict[str, Any]) -> bool:
    actions = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(a in _READ_ACTIONS for a in actions)


def condition_value(statement: dict[str, Any], operator: str, key: str) -> list[str]:
    cond = statement.get("Condition") or {}
    if not isinstance(cond, dict):
        return []
    block = cond.get(operator) or {}
    if not isinstance(block, dict):
        return []
    for k, v in block.items():
        if str(k).lower() == key.lower():
            return [str(x).lower() for x in as_list(v)]
    return []


def role_of(principal: str, roles: dict[str, Any]) -> str | None:
    """Map a principal (ARN, ``${aws_iam_role.reader.arn}``, ``group:reader@x``) to a policy role."""
    ref = reference(principal)
    candidates = []
    if ref:
        candidates.append(ref[1])
    text = principal.split("}")[0]
    for sep in ("/", ":", "."):
        text = text.rsplit(sep, 1)[-1]
    candidates.append(text.split("@")[0])
    candidates.append(principal.split(":", 1)[-1].split("@")[0])
    for c in candidates:
        if c in roles:
            return c
    return None


def prefix_of_key_pattern(pattern: str) -> str:
    """``raw/*`` -> ``raw/``; ``*`` or ``""`` -> ``*`` (the whole bucket)."""
    head = pattern.split("*", 1)[0]
    return head if head else "*"


def external_name(value: Any, prefix: str) -> tuple[str, str]:
    """(name, address) of a bucket a companion names by an expression the checked files do not
    resolve: a resource reference names the resource (``aws_s3_bucket.example.id`` ->
    ``aws_s3_bucket.example``, named ``example``, within the module); other expressions (a module
    output, a variable) name themselves."""
    text = str(value)[2:-1] if str(value).startswith("${") and str(value).endswith("}") else str(value)
    ref = reference(value)
    if ref is None or ref[0] == "module":
        return text, text
    resource = text.rsplit(".", 1)[0]  # keeps an instance key: aws_s3_bucket.b["k"]
    return resource.split(".", 1 if not ref[0].startswith("data.") else 2)[-1], prefix + resource
