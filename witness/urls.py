"""The witness's routes, mounted at /witness/ by the service and at / by `run_witness`."""

from django.urls import path, re_path

from witness import views

urlpatterns = [
    path("add-checkpoint", views.add_checkpoint, name="witness-add-checkpoint"),
    re_path(r"^(?P<origin_hash>[0-9a-f]{64})/checkpoint$", views.checkpoint, name="witness-checkpoint"),
]
