"""The URLconf of `manage.py run_witness`: only the witness, at the root of its own port."""

from django.urls import include, path

urlpatterns = [path("", include("witness.urls"))]
