"""AWX survey specs generated from a role's argument spec (meta/argument_specs.yml), so that a job
template's questions, types, choices, defaults and secrets cannot drift from what the role accepts.

AWX answers are JSON: integers and floats arrive typed, every other answer as a string (booleans as
"true"/"false", which the roles read with `| bool`). AWX sends every question's default as an extra
variable, so a survey option overrides the inventory. Options AWX cannot ask for (lists, dicts) and
inventory group options are left out and named, so a caller can say so.
"""

from __future__ import annotations

import os
import re

# AWX's question types (awx/api/views: JobTemplateSurveySpec) and its default text bounds.
QUESTION_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")
TEXT_MIN, TEXT_MAX = 0, 1024
BOOL_CHOICES = ["true", "false"]
# Option names that hold a secret must be no_log in the spec, which makes them password questions.
SECRET_NAME = re.compile(r"(password|passwd|token|secret|kubeconfig_content|private_key)", re.I)
_MARKUP = re.compile(r"\b[CIOVBMPRU]\(([^()]*)\)")


def plain(description):
    """The description as one plain sentence list: ansible-doc markup C(x), O(x)... becomes x."""
    if isinstance(description, (list, tuple)):
        description = " ".join(str(d) for d in description)
    return _MARKUP.sub(lambda m: m.group(1).split("#")[0], str(description or "")).strip()


def question_name(variable, prefix):
    words = variable[len(prefix):] if prefix and variable.startswith(prefix) else variable
    return words.replace("_", " ").strip().capitalize()


def question(variable, option, prefix=""):
    """(question, None) for an option AWX can ask for, or (None, reason) for one it cannot."""
    kind = option.get("type", "str")
    item = {
        "variable": variable,
        "question_name": question_name(variable, prefix),
        "question_description": plain(option.get("description")),
        "required": bool(option.get("required", False)),
    }
    default = option.get("default")
    choices = option.get("choices")
    if kind == "bool":
        item.update(type="multiplechoice", choices=list(BOOL_CHOICES))
        if default is not None:
            item["default"] = "true" if default else "false"
    elif kind in ("int", "float"):
        item["type"] = "integer" if kind == "int" else "float"
        if default is not None:
            item["default"] = default
    elif kind in ("str", "path", "raw") and choices:
        item.update(type="multiplechoice", choices=[str(c) for c in choices])
        if default is not None:
            item["default"] = str(default)
    elif kind in ("str", "path"):
        # An emptied answer would replace a non-empty default with "", which no such option accepts.
        low = TEXT_MIN if default in (None, "") else 1
        item.update(type="password" if option.get("no_log") else "text", min=low, max=TEXT_MAX)
        item["default"] = "" if default is None else str(default)
    else:
        return None, "type %s%s" % (kind, " of %s" % option["elements"] if option.get("elements") else "")
    return item, None


def survey_spec(argument_spec, entry_point="main", prefix="", name=None):
    """{name, description, spec} for the entry point's options, and {option: why it is left out}.
    An inventory group option is left out: the playbook's plays target the group by name."""
    entry = argument_spec["argument_specs"][entry_point]
    spec, left_out = [], {}
    for variable, option in entry.get("options", {}).items():
        if variable.endswith("_group"):
            left_out[variable] = "an inventory group: name the group in the inventory"
            continue
        item, reason = question(variable, option, prefix)
        if item is None:
            left_out[variable] = reason
        else:
            spec.append(item)
    description = plain(entry.get("short_description"))
    if left_out:
        description += (". Not asked here (set in the inventory or the template's extra variables): %s."
                        % ", ".join("%s (%s)" % item for item in sorted(left_out.items())))
    return {"name": name or entry_point, "description": description, "spec": spec}, left_out


def survey_problems(survey):
    """Every reason AWX would refuse `survey` when it is saved (JobTemplateSurveySpec) or would drop
    one of its defaults at launch (a default outside its question's bounds is silently left out of
    the job's variables); empty when neither happens."""
    problems = []
    for key, kind in (("name", str), ("description", str), ("spec", list)):
        if not isinstance(survey.get(key), kind):
            problems.append("%r must be a %s" % (key, "list of questions" if kind is list else "string"))
    if not isinstance(survey.get("spec"), list):
        return problems
    if not survey["spec"]:
        problems.append("'spec' has no questions")
    seen = set()
    for index, item in enumerate(survey["spec"]):
        where = "question %d (%s)" % (index, item.get("variable"))
        problems += ["%s: %s" % (where, p) for p in _item_problems(item)]
        if item.get("variable") in seen:
            problems.append("%s: the variable is asked twice" % where)
        seen.add(item.get("variable"))
    return problems


# AWX's SURVEY_TYPE_MAPPING: the Python type a default (and an answer) must have.
DEFAULT_TYPES = {"text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
                 "integer": int, "float": (float, int)}


def _item_problems(item):
    problems = ["%r must be a string" % key for key in ("type", "question_name", "variable")
                if not isinstance(item.get(key), str)]
    if not isinstance(item.get("required"), bool):
        problems.append("'required' must be true or false")
    kind, default = item.get("type"), item.get("default")
    if kind not in QUESTION_TYPES:
        return problems + ["type %r is not one of %s" % (kind, ", ".join(QUESTION_TYPES))]
    for bound in ("min", "max"):
        value = item.get(bound)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append("%r must be an integer" % bound)
    if default not in (None, "") and (not isinstance(default, DEFAULT_TYPES[kind]) or isinstance(default, bool)):
        return problems + ["default %r is not of the question's type (%s)" % (default, kind)]
    if isinstance(default, str) and default.startswith("$encrypted$"):
        problems.append("$encrypted$ is reserved for password questions that already have a default")
    low, high = item.get("min"), item.get("max")
    low = low if isinstance(low, int) else None
    high = high if isinstance(high, int) else None
    if kind in ("multiplechoice", "multiselect"):
        problems += _choice_problems(kind, item.get("choices"), default)
    elif kind in ("text", "textarea", "password") and isinstance(default, str):
        if (low is not None and len(default) < low) or (high is not None and len(default) > high):
            problems.append("default is %d characters, outside min %s and max %s" % (len(default), low, high))
    elif kind in ("integer", "float") and default not in (None, ""):
        if (low is not None and default < low) or (high is not None and default > high):
            problems.append("default %r is outside min %s and max %s" % (default, low, high))
    return problems


def _choice_problems(kind, choices, default):
    if isinstance(choices, str):
        choices = [c for c in choices.split("\n") if c.strip()]
    if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
        return ["'choices' must be a non-empty list of strings"]
    problems = ["'choices' repeats a choice"] if len(set(choices)) != len(choices) else []
    picked = [] if default in (None, "") else default.split("\n")
    if kind == "multiplechoice" and len(picked) > 1:
        problems.append("a multiplechoice question has one default")
    if any(p not in choices for p in picked):
        problems.append("default %r is not among the choices %s" % (default, choices))
    return problems


def checked_survey(survey):
    """`survey`, or ValueError with every reason AWX would refuse it."""
    problems = survey_problems(survey)
    if problems:
        raise ValueError("AWX would refuse the survey %r: %s" % (survey.get("name"), "; ".join(problems)))
    return survey


def unmarked_secrets(argument_spec):
    """String options whose name says they hold a secret but that are not no_log (so would not be
    password questions). A file, folder or path option names where a secret is, not the secret."""
    found = []
    for entry_point, entry in sorted(argument_spec["argument_specs"].items()):
        for variable, option in (entry.get("options") or {}).items():
            holds_text = option.get("type", "str") in ("str", "raw") and not variable.endswith(("_file", "_dir", "_path"))
            if holds_text and SECRET_NAME.search(variable) and not option.get("no_log"):
                found.append("%s: %s" % (entry_point, variable))
    return found


def job_template(role, project, roles_dir):
    """The job template of a role-playbook: {name, description, playbook, survey_spec}, its survey
    from roles_dir/<role>/meta/argument_specs.yml."""
    import yaml

    with open(os.path.join(roles_dir, role, "meta", "argument_specs.yml")) as handle:
        argument_spec = yaml.safe_load(handle)
    survey, _left_out = survey_spec(argument_spec, "main", role + "_", "%s %s" % (project, role))
    checked_survey(survey)
    return {"name": "%s %s" % (project, role), "description": survey["description"],
            "playbook": "playbooks/%s.yml" % role, "survey_spec": survey}
