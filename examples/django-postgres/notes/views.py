from django.db import connection
from django.http import JsonResponse


def health(_request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def list_notes(_request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 AS id, 'first note' AS body")
        rows = [{"id": row[0], "body": row[1]} for row in cursor.fetchall()]
    return JsonResponse(rows, safe=False)
