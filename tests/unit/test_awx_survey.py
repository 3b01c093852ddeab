"""AWX surveys generated from the roles' argument specs: each question mirrors its option (type,
choices, default, required; secrets as passwords), AWX's survey rules accept every survey, the rules
themselves catch what AWX refuses, and the AWX playbook renders exactly these job templates."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ansible_collections.nodenet.fabric.plugins.plugin_utils.awx_survey import job_template, survey_problems, survey_spec, unmarked_secrets

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROLE_PLAYBOOKS = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml") if (ROOT / "roles" / p.stem).is_dir())


def spec_of(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())


def test_every_role_playbook_has_a_role_with_a_main_entry_point():
    assert ROLE_PLAYBOOKS == ["calico_bgp_rr", "flannel_hostgw", "kube_router_install", "vxlan_mesh"]


@pytest.mark.parametrize("role", ROLE_PLAYBOOKS)
def test_each_question_mirrors_its_option(role):
    options = spec_of(role)["argument_specs"]["main"]["options"]
    survey, left_out = survey_spec(spec_of(role), "main", role + "_")
    assert survey_problems(survey) == []
    asked = dict((q["variable"], q) for q in survey["spec"])
    assert sorted(asked) + sorted(left_out) == sorted(asked) + sorted(set(options) - set(asked))
    assert set(asked) | set(left_out) == set(options) and not set(asked) & set(left_out)
    for name, option in options.items():
        if name in left_out:
            assert option["type"] in ("list", "dict") or name.endswith("_group")
            assert name in survey["description"]
            continue
        q = asked[name]
        assert q["required"] is bool(option.get("required", False))
        assert q["question_name"] and not q["question_name"].lower().startswith(role.replace("_", " "))
        if option["type"] == "bool":
            assert (q["type"], q["choices"], q["default"]) == ("multiplechoice", ["true", "false"],
                                                               str(option["default"]).lower())
        elif option.get("choices"):
            assert (q["type"], q["choices"], q["default"]) == ("multiplechoice", option["choices"], option["default"])
        elif option["type"] == "int":
            assert (q["type"], q["default"]) == ("integer", option["default"])
        else:
            assert q["type"] == ("password" if option.get("no_log") else "text")
            assert q["default"] == option.get("default", "")
            assert q["min"] == (1 if option.get("default") else 0)  # an emptied answer is refused


def test_a_changed_argument_spec_changes_the_survey():
    spec = spec_of("vxlan_mesh")
    spec["argument_specs"]["main"]["options"]["vxlan_mesh_state"]["choices"].append("paused")
    spec["argument_specs"]["main"]["options"]["vxlan_mesh_wait"] = {"type": "int", "default": 30, "description": "x"}
    survey, _ = survey_spec(spec, "main", "vxlan_mesh_")
    questions = dict((q["variable"], q) for q in survey["spec"])
    assert questions["vxlan_mesh_state"]["choices"] == ["present", "absent", "paused"]
    assert questions["vxlan_mesh_wait"]["default"] == 30


def test_a_no_log_option_is_a_password_question_and_secret_names_must_be_no_log():
    spec = {"argument_specs": {"main": {"options": {
        "r_token": {"type": "str", "no_log": True, "description": "API token."},
        "r_password_file": {"type": "path", "description": "Where the password is."},
        "r_bgp_password": {"type": "str", "description": "Forgot no_log."}}}}}
    survey, _ = survey_spec(spec, "main", "r_")
    assert [q["type"] for q in survey["spec"]] == ["password", "text", "text"]
    assert unmarked_secrets(spec) == ["main: r_bgp_password"]
    for role in sorted(p.name for p in (ROOT / "roles").iterdir()):
        assert unmarked_secrets(spec_of(role)) == [], role


GOOD = {"type": "text", "question_name": "Q", "variable": "v", "required": False, "default": "ab", "min": 0, "max": 5}


@pytest.mark.parametrize("change, problem", [
    ({"type": "checkbox"}, "type 'checkbox' is not one of"),
    ({"required": "yes"}, "'required' must be true or false"),
    ({"variable": None}, "'variable' must be a string"),
    ({"min": "0"}, "'min' must be an integer"),
    ({"default": "abcdef"}, "default is 6 characters, outside min 0 and max 5"),
    ({"default": 3}, "default 3 is not of the question's type (text)"),
    ({"type": "integer", "default": "3"}, "is not of the question's type (integer)"),
    ({"type": "integer", "default": 9}, "default 9 is outside min 0 and max 5"),
    ({"type": "integer", "default": True}, "is not of the question's type (integer)"),
    ({"type": "multiplechoice", "choices": []}, "'choices' must be a non-empty list of strings"),
    ({"type": "multiplechoice", "choices": ["a", "b"], "default": "c"}, "default 'c' is not among the choices"),
    ({"type": "multiplechoice", "choices": "a\nb", "default": "a\nb"}, "a multiplechoice question has one default"),
    ({"type": "multiselect", "choices": ["a", "a"], "default": ""}, "'choices' repeats a choice"),
    ({"default": "$encrypted$"}, "$encrypted$ is reserved"),
])
def test_the_survey_rules_refuse_what_awx_refuses(change, problem):
    bad = dict(GOOD, **change)
    assert survey_problems({"name": "s", "description": "", "spec": [GOOD]}) == []
    problems = survey_problems({"name": "s", "description": "", "spec": [bad]})
    assert any(problem in p for p in problems), problems


def test_the_survey_itself_must_have_a_name_a_description_and_distinct_questions():
    assert survey_problems({"name": "s", "spec": [GOOD]}) == ["'description' must be a string"]
    assert survey_problems({"name": "s", "description": "", "spec": []}) == ["'spec' has no questions"]
    assert survey_problems({"name": "s", "description": "", "spec": [GOOD, GOOD]}) == [
        "question 1 (v): the variable is asked twice"]


def test_the_awx_playbook_renders_one_job_template_per_role_playbook(tmp_path):
    out = tmp_path / "templates.json"
    proc = subprocess.run([str(BIN / "ansible-playbook"), "playbooks/awx/job_templates.yml",
                           "-e", "nodenet_awx_render=%s" % out], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:]
    rendered = json.loads(out.read_text())
    assert rendered == [job_template(role, "nodenet.fabric", str(ROOT / "roles"))
                        for role in ["vxlan_mesh", "flannel_hostgw", "calico_bgp_rr", "kube_router_install"]]
    assert sorted(t["playbook"] for t in rendered) == ["playbooks/%s.yml" % r for r in ROLE_PLAYBOOKS]


def test_every_awx_task_passes_its_module_argument_checks_and_only_then_needs_a_server(tmp_path):
    """No AWX server runs here. Each awx.awx task of the playbook runs in check mode against
    127.0.0.1:9, where nothing listens: the module validates its arguments first (a wrong option or
    type fails there), then its first GET is refused. NOT executed: anything an AWX server does
    (object creation, the survey POST, the API's own survey validation)."""
    play = yaml.safe_load((ROOT / "playbooks" / "awx" / "job_templates.yml").read_text())[0]
    tasks = []
    for task in play["tasks"]:
        if any(k.startswith("awx.awx.") for k in task):
            tasks.append(dict((k, v) for k, v in task.items() if k != "when"))
    assert [next(k for k in t if k.startswith("awx.awx.")) for t in tasks] == [
        "awx.awx.execution_environment", "awx.awx.project", "awx.awx.inventory", "awx.awx.inventory_source",
        "awx.awx.credential_type", "awx.awx.credential_type", "awx.awx.job_template"]
    for task in tasks:
        task["ignore_errors"] = True
    probe = tmp_path / "probe.yml"
    probe.write_text(yaml.safe_dump([dict(play, tasks=tasks, vars=dict(
        play["vars"], nodenet_awx_scm_url="https://git.invalid/fabric.git",
        nodenet_awx_ee_image="registry.invalid/nodenet-fabric-ee:1", nodenet_awx_credentials=["nodes"],
        nodenet_awx_templates=play["vars"]["nodenet_awx_templates"].replace(
            "playbook_dir ~ '/../../roles'", "'%s'" % (ROOT / "roles"))))]))
    env = dict(__import__("os").environ, CONTROLLER_HOST="https://127.0.0.1:9", CONTROLLER_OAUTH_TOKEN="not-a-token",
               CONTROLLER_VERIFY_SSL="false", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([str(BIN / "ansible-playbook"), "--check", str(probe)], capture_output=True, text=True,
                          cwd=ROOT, env=env)
    report = json.loads(proc.stdout)
    results = []
    for task in report["plays"][0]["tasks"]:
        result = task["hosts"]["localhost"]
        results += result.get("results", [result])
    assert len(results) == 6 + 4  # one job template per role
    for result in results:
        assert result.get("failed") and "Connection refused" in result["msg"], result.get("msg")
        assert "Unsupported parameters" not in result["msg"] and "not-a-token" not in json.dumps(result)
