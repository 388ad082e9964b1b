SELECT
  "t"."__row",
  "t"."ticket_no",
  (
    (
      "t"."ticket_type" = '故障报修'
    )
    AND (
      (
        COALESCE("t"."arrived_at", CAST($as_of AS TIMESTAMP)) - "t"."accepted_at"
      ) > (
        CASE
          WHEN "t"."area" IN ('城区')
          THEN INTERVAL '2700000000' MICROSECONDS
          WHEN "t"."area" IN ('农村')
          THEN INTERVAL '5400000000' MICROSECONDS
          WHEN "t"."area" IN ('特殊边远')
          THEN INTERVAL '7200000000' MICROSECONDS
        END
      )
    )
  ) AS "R-001",
  LIST_FILTER([], LAMBDA x : NOT x IS NULL) AS "R-001__missing",
  (
    (
      "t"."category" = '安全隐患'
    )
    AND (
      CASE
        WHEN "t"."cons_no" IS NULL
        OR (
          "t"."accepted_at" - INTERVAL '2592000000000' MICROSECONDS
        ) IS NULL
        OR "t"."accepted_at" IS NULL
        THEN NULL
        ELSE (
          SELECT
            COUNT(*)
          FROM records_ticket AS w0
          WHERE
            "w0"."cons_no" = "t"."cons_no"
            AND (
              (
                "w0"."category" = '安全隐患'
              )
            ) IS TRUE
            AND "w0"."accepted_at" >= (
              "t"."accepted_at" - INTERVAL '2592000000000' MICROSECONDS
            )
            AND "w0"."accepted_at" <= "t"."accepted_at"
        )
      END >= 2
    )
  ) AS "R-002",
  LIST_FILTER(
    [
      CASE WHEN (
        "t"."category"
      ) IS NULL THEN 'category' END,
      CASE WHEN (
        "t"."cons_no"
      ) IS NULL THEN 'cons_no' END
    ],
    LAMBDA x : NOT x IS NULL
  ) AS "R-002__missing"
FROM records_ticket AS t
;
SELECT
  "t"."__row",
  "t"."cons_no",
  "t"."period",
  (
    (
      "t"."kwh_avg3" > CAST('0' AS DECIMAL(38, 10))
    )
    AND (
      (
        CAST(CAST(CAST(ABS((
          "t"."kwh" - "t"."kwh_avg3"
        )) AS DECIMAL(38, 10)) * 10000000000 AS INT128) * 10000000000 // NULLIF(CAST(CAST("t"."kwh_avg3" AS DECIMAL(38, 10)) * 10000000000 AS INT128), 0) AS DECIMAL(38, 0)) * CAST('0.0000000001' AS DECIMAL(11, 10))
      ) > CAST('0.5' AS DECIMAL(38, 10))
    )
  ) AS "R-003",
  LIST_FILTER(
    [CASE WHEN (
        "t"."kwh_avg3"
    ) IS NULL THEN 'kwh_avg3' END],
    LAMBDA x : NOT x IS NULL
  ) AS "R-003__missing"
FROM records_billing AS t
