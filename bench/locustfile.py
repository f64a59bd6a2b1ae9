"""A mixed day at the hospital for Locust (run by bench/load.py in its own process):
front desk lend + return, ward clerks ordering meals, the kitchen reading today's orders,
inspectors reading assessments. Tokens come from the bench (BENCH_TOKENS, JSON by role),
so the run measures work, not logins; BENCH_DAY is the day meals are ordered for."""
import itertools
import json
import os

from locust import HttpUser, between, task

TOKENS = json.loads(os.environ.get("BENCH_TOKENS", "{}"))
DAY = os.environ.get("BENCH_DAY", "")
ASSETS = itertools.count(int(os.environ.get("BENCH_ASSET_BASE", "0")))   # a run stopped mid-loan leaves its assets out
SEQ = itertools.count()


def auth(role):
    return {"Authorization": f"Bearer {TOKENS[role]}"}


class FrontDesk(HttpUser):
    weight = 3
    wait_time = between(0.05, 0.2)

    def on_start(self):
        self.asset = f"BA-{next(ASSETS) % 200:04d}"      # each desk user has its own assets

    @task
    def lend_and_return(self):
        r = self.client.post("/api/v1/rentals/lend", json={"asset_code": self.asset, "borrower_name": "压测",
                                                            "phone": "13800000000"},
                             headers=auth("Front Desk"), name="rentals lend")
        if r.status_code == 201:
            self.client.post("/api/v1/rentals/return", json={"loan": r.json()["name"]},
                             headers=auth("Front Desk"), name="rentals return")

    @task
    def loans_list(self):
        self.client.get("/api/v1/loan/?q=(page:0,page_size:25)", headers=auth("Front Desk"), name="loans list")


class WardClerk(HttpUser):
    weight = 3
    wait_time = between(0.05, 0.2)

    @task
    def order(self):
        n = next(SEQ)
        body = {"ward": f"BW{1 + n % 12}", "bed": f"{n % 40:02d}", "patient_name": "压测患者", "diet": "b_regular",
                "slot": "b_supper", "day": DAY, "lines": [{"dish": f"DISH-{1 + n % 20:04d}", "qty": 1 + n % 2}]}
        self.client.post("/api/v1/catering/orders", json=body, headers=auth("Catering Clerk"), name="meal order")


class Kitchen(HttpUser):
    weight = 1
    wait_time = between(0.1, 0.3)

    @task
    def todays_orders(self):
        self.client.get(f"/api/v1/order/?q=(filters:!((col:day,opr:eq,value:'{DAY}')),page:0,page_size:50)",
                        headers=auth("Kitchen"), name="kitchen: orders of the day")


class Inspector(HttpUser):
    weight = 1
    wait_time = between(0.1, 0.3)

    @task
    def assessments(self):
        self.client.get("/api/v1/assessment/?q=(page:0,page_size:25)", headers=auth("Inspector"),
                        name="inspector: assessments")
