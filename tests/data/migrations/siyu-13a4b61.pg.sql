--
-- PostgreSQL database dump
--

\restrict kJTagEALjEXVXp2p8smCMwmmFFWck3apbAysQrHMtBHtmGI0RPIOx3Z0SUnHvbo

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    actor character varying NOT NULL,
    command character varying NOT NULL,
    target character varying NOT NULL,
    allowed boolean NOT NULL
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_log_id_seq OWNED BY public.audit_log.id;


--
-- Name: chat; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.chat (
    id character varying NOT NULL,
    name character varying,
    is_group boolean NOT NULL,
    platform character varying NOT NULL
);


--
-- Name: consent_notice; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.consent_notice (
    member_pk integer NOT NULL,
    sent_at timestamp with time zone NOT NULL
);


--
-- Name: content_event; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.content_event (
    member_pk integer NOT NULL,
    event_id character varying NOT NULL,
    ts timestamp with time zone NOT NULL,
    content_type character varying NOT NULL,
    action character varying NOT NULL,
    duration double precision,
    origin character varying NOT NULL
);


--
-- Name: external_link; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.external_link (
    id integer NOT NULL,
    kind character varying NOT NULL,
    value character varying NOT NULL,
    member_pk integer NOT NULL,
    origin character varying NOT NULL
);


--
-- Name: external_link_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.external_link_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: external_link_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.external_link_id_seq OWNED BY public.external_link.id;


--
-- Name: identity; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.identity (
    id integer NOT NULL,
    member_pk integer NOT NULL,
    platform character varying NOT NULL,
    platform_id character varying NOT NULL
);


--
-- Name: identity_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.identity_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: identity_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.identity_id_seq OWNED BY public.identity.id;


--
-- Name: member; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member (
    id integer NOT NULL,
    member_id character varying NOT NULL,
    name character varying NOT NULL,
    first_seen timestamp with time zone,
    last_active timestamp with time zone,
    opted_out boolean NOT NULL,
    tags_stale boolean NOT NULL
);


--
-- Name: member_activity; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_activity (
    member_pk integer NOT NULL,
    computed_us integer NOT NULL,
    messages integer NOT NULL,
    first_us integer,
    last_us integer,
    joined_us integer,
    recent text NOT NULL
);


--
-- Name: member_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.member_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: member_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.member_id_seq OWNED BY public.member.id;


--
-- Name: member_keywords; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_keywords (
    member_pk integer NOT NULL,
    through_us integer NOT NULL,
    messages integer NOT NULL,
    words text NOT NULL
);


--
-- Name: member_segment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_segment (
    run_id integer NOT NULL,
    member_pk integer NOT NULL,
    value character varying,
    lifecycle character varying,
    motivation character varying,
    layer character varying,
    cluster character varying
);


--
-- Name: member_tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.member_tags (
    member_pk integer NOT NULL,
    computed_us integer NOT NULL,
    keys text NOT NULL,
    numbers bytea NOT NULL,
    intents text NOT NULL
);


--
-- Name: message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message (
    id character varying NOT NULL,
    chat_id character varying NOT NULL,
    member_pk integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    type character varying NOT NULL,
    text character varying,
    signals json NOT NULL,
    origin character varying NOT NULL
);


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key character varying NOT NULL,
    value character varying NOT NULL
);


--
-- Name: notify_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notify_log (
    id integer NOT NULL,
    member_pk integer NOT NULL,
    operator character varying NOT NULL,
    at timestamp with time zone NOT NULL
);


--
-- Name: notify_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.notify_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: notify_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.notify_log_id_seq OWNED BY public.notify_log.id;


--
-- Name: orders; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.orders (
    order_id character varying NOT NULL,
    member_pk integer NOT NULL,
    ts timestamp with time zone NOT NULL,
    amount double precision NOT NULL,
    category character varying,
    coupon_used boolean NOT NULL,
    origin character varying NOT NULL
);


--
-- Name: segment_run; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segment_run (
    id integer NOT NULL,
    as_of timestamp with time zone NOT NULL,
    created_at timestamp with time zone NOT NULL,
    params json NOT NULL,
    result json NOT NULL
);


--
-- Name: segment_run_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.segment_run_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: segment_run_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.segment_run_id_seq OWNED BY public.segment_run.id;


--
-- Name: suggest_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.suggest_state (
    key character varying NOT NULL,
    value character varying NOT NULL
);


--
-- Name: suggestion; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.suggestion (
    id integer NOT NULL,
    member_pk integer NOT NULL,
    scenario character varying NOT NULL,
    trigger character varying NOT NULL,
    trigger_ts timestamp with time zone NOT NULL,
    message_id character varying,
    chat_id character varying,
    activity character varying,
    segment character varying,
    operator character varying NOT NULL,
    source character varying NOT NULL,
    variant character varying NOT NULL,
    template_text character varying NOT NULL,
    text character varying NOT NULL,
    alternatives json NOT NULL,
    why json NOT NULL,
    reasons json NOT NULL,
    segments json NOT NULL,
    next_action character varying NOT NULL,
    polished boolean NOT NULL,
    status character varying NOT NULL,
    final_text character varying,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    notified_at timestamp with time zone,
    status_at timestamp with time zone
);


--
-- Name: suggestion_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.suggestion_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: suggestion_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.suggestion_id_seq OWNED BY public.suggestion.id;


--
-- Name: tag; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tag (
    id integer NOT NULL,
    member_pk integer NOT NULL,
    code character varying NOT NULL,
    kind character varying NOT NULL,
    label character varying NOT NULL,
    score double precision NOT NULL,
    evidence json NOT NULL,
    expires_at timestamp with time zone,
    source character varying NOT NULL,
    computed_at timestamp with time zone
);


--
-- Name: tag_claim; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tag_claim (
    member_pk integer NOT NULL
);


--
-- Name: tag_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tag_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tag_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tag_id_seq OWNED BY public.tag.id;


--
-- Name: audit_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log ALTER COLUMN id SET DEFAULT nextval('public.audit_log_id_seq'::regclass);


--
-- Name: external_link id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.external_link ALTER COLUMN id SET DEFAULT nextval('public.external_link_id_seq'::regclass);


--
-- Name: identity id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.identity ALTER COLUMN id SET DEFAULT nextval('public.identity_id_seq'::regclass);


--
-- Name: member id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member ALTER COLUMN id SET DEFAULT nextval('public.member_id_seq'::regclass);


--
-- Name: notify_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notify_log ALTER COLUMN id SET DEFAULT nextval('public.notify_log_id_seq'::regclass);


--
-- Name: segment_run id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment_run ALTER COLUMN id SET DEFAULT nextval('public.segment_run_id_seq'::regclass);


--
-- Name: suggestion id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suggestion ALTER COLUMN id SET DEFAULT nextval('public.suggestion_id_seq'::regclass);


--
-- Name: tag id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag ALTER COLUMN id SET DEFAULT nextval('public.tag_id_seq'::regclass);


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: chat; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.chat VALUES ('20231101888@chatroom', '小禾优选·宝妈团购群（杨浦）', true, 'wechat');
INSERT INTO public.chat VALUES ('chatlab:wechat:private:0ce8e67d342c', '王女士（奶粉售后）', false, 'wechat');
INSERT INTO public.chat VALUES ('wechatmsg:group:d79f35034827', '宝妈群', true, 'wechat');
INSERT INTO public.chat VALUES ('16608239626@chatroom', '小禾优选·新人群', true, 'wechat');
INSERT INTO public.chat VALUES ('71147682976@chatroom', '小禾优选·数码好物群', true, 'wechat');
INSERT INTO public.chat VALUES ('chatlab:wechat:private:9e7c359c87d1', '小确幸', false, 'wechat');
INSERT INTO public.chat VALUES ('chatlab:wechat:private:14a69b3d7ff9', '准妈妈Vivian', false, 'wechat');
INSERT INTO public.chat VALUES ('chatlab:wechat:private:dab093c29bad', '李奶奶', false, 'wechat');


--
-- Data for Name: consent_notice; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: content_event; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: external_link; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: identity; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.identity VALUES (1, 1, 'wechat', 'wxid_xiaohe_op');
INSERT INTO public.identity VALUES (2, 2, 'wechat', 'wxid_zhangli01');
INSERT INTO public.identity VALUES (3, 3, 'wechat', 'wxid_xiaowang');
INSERT INTO public.identity VALUES (4, 4, 'wechat', 'wxid_xiaoli');
INSERT INTO public.identity VALUES (5, 5, 'wechat', 'wxid_wangnvshi');
INSERT INTO public.identity VALUES (6, 6, 'wechat', '20231101888@chatroom');
INSERT INTO public.identity VALUES (7, 7, 'wechat', 'wechatmsg:group:d79f35034827');
INSERT INTO public.identity VALUES (8, 8, 'wechat', 'wxid_efyvxkkqss6nl4');
INSERT INTO public.identity VALUES (9, 9, 'wechat', 'wxid_5vxnh8gsibo5yx');
INSERT INTO public.identity VALUES (10, 10, 'wechat', 'wxid_bjfmdezhpx6z5b');
INSERT INTO public.identity VALUES (11, 11, 'wechat', 'wxid_gyqt1nkodry7sf');
INSERT INTO public.identity VALUES (12, 12, 'wechat', 'wxid_mi83elr2dh5193');
INSERT INTO public.identity VALUES (13, 13, 'wechat', 'wxid_jl7veka1zh90q2');
INSERT INTO public.identity VALUES (14, 14, 'wechat', 'wxid_fcsx3il403qeyg');
INSERT INTO public.identity VALUES (15, 15, 'wechat', 'wxid_q5nso3j0avhiay');
INSERT INTO public.identity VALUES (16, 16, 'wechat', 'wxid_31cqup13wvwyrz');
INSERT INTO public.identity VALUES (17, 17, 'wechat', 'wxid_kzbdr19s19vrgl');
INSERT INTO public.identity VALUES (18, 18, 'wechat', 'wxid_o4cw7pzrdtypob');
INSERT INTO public.identity VALUES (19, 19, 'wechat', 'wxid_krjzocuik81yq8');
INSERT INTO public.identity VALUES (20, 20, 'wechat', 'wxid_80z9u02kcgowyz');
INSERT INTO public.identity VALUES (21, 21, 'wechat', 'wxid_1scmvg4v6qmi9k');
INSERT INTO public.identity VALUES (22, 22, 'wechat', 'wxid_2b7wcenfseymeq');
INSERT INTO public.identity VALUES (23, 23, 'wechat', 'wxid_u7lt58maz82afz');
INSERT INTO public.identity VALUES (24, 24, 'wechat', 'wxid_xakjpgp8xg0735');
INSERT INTO public.identity VALUES (25, 25, 'wechat', 'wxid_91pvms5xx4mur4');
INSERT INTO public.identity VALUES (26, 26, 'wechat', 'wxid_dof7wcqor5sn0m');
INSERT INTO public.identity VALUES (27, 27, 'wechat', 'wxid_0zxg6dbrmu2t5b');
INSERT INTO public.identity VALUES (28, 28, 'wechat', 'wxid_92q7wc1kjlalmt');
INSERT INTO public.identity VALUES (29, 29, 'wechat', 'wxid_pxmatdkgpjg3pw');
INSERT INTO public.identity VALUES (30, 30, 'wechat', 'wxid_5lr0qugvvup013');
INSERT INTO public.identity VALUES (31, 31, 'wechat', 'wxid_cdeces5b73k3pm');
INSERT INTO public.identity VALUES (32, 32, 'wechat', 'wxid_e9o2x4q646qyae');
INSERT INTO public.identity VALUES (33, 33, 'wechat', 'wxid_4k3zjsohdvj6dw');
INSERT INTO public.identity VALUES (34, 34, 'wechat', 'wxid_pszedl6sbdzju0');
INSERT INTO public.identity VALUES (35, 35, 'wechat', 'wxid_cqwjrg4g5v2k4t');
INSERT INTO public.identity VALUES (36, 36, 'wechat', 'wxid_vl5i5vf5gpuidf');
INSERT INTO public.identity VALUES (37, 37, 'wechat', 'wxid_2sy9otif7hdkvk');
INSERT INTO public.identity VALUES (38, 38, 'wechat', 'wxid_rrlsfi3z6ssn6l');
INSERT INTO public.identity VALUES (39, 39, 'wechat', 'wxid_7rek8o4f25xm4z');


--
-- Data for Name: member; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.member VALUES (28, 'wxid_92q7wc1kjlalmt', 'KK|广州', '2026-09-24 00:39:01+00', '2026-11-17 00:41:13+00', false, false);
INSERT INTO public.member VALUES (33, 'wxid_4k3zjsohdvj6dw', '橘子汽水', NULL, NULL, false, false);
INSERT INTO public.member VALUES (34, 'wxid_pszedl6sbdzju0', '程序员老陈(2岁半)', '2026-10-15 12:41:43+00', '2026-11-06 12:32:19+00', false, false);
INSERT INTO public.member VALUES (35, 'wxid_cqwjrg4g5v2k4t', '大刘|苏州', NULL, NULL, false, false);
INSERT INTO public.member VALUES (36, 'wxid_vl5i5vf5gpuidf', '浩然爸爸(2岁半)', '2026-09-25 11:09:26+00', '2026-10-19 11:52:42+00', false, false);
INSERT INTO public.member VALUES (37, 'wxid_2sy9otif7hdkvk', '小确幸', '2026-10-28 13:20:44+00', '2026-11-04 12:21:24+00', false, false);
INSERT INTO public.member VALUES (38, 'wxid_rrlsfi3z6ssn6l', '准妈妈Vivian', '2026-10-29 06:12:38+00', '2026-11-08 06:30:23+00', false, false);
INSERT INTO public.member VALUES (39, 'wxid_7rek8o4f25xm4z', '李奶奶', '2026-10-26 00:37:22+00', '2026-10-28 00:57:27+00', false, false);
INSERT INTO public.member VALUES (11, 'wxid_gyqt1nkodry7sf', '米粒妈', NULL, NULL, false, false);
INSERT INTO public.member VALUES (20, 'wxid_80z9u02kcgowyz', '上海-等待小豆芽', NULL, NULL, false, false);
INSERT INTO public.member VALUES (12, 'wxid_mi83elr2dh5193', '豆豆妈咪|成都', '2026-10-22 16:04:04+00', '2026-10-22 16:04:04+00', false, false);
INSERT INTO public.member VALUES (14, 'wxid_fcsx3il403qeyg', '果果妈妈(10个月)', '2026-11-10 12:04:39+00', '2026-11-13 09:14:34+00', false, false);
INSERT INTO public.member VALUES (1, 'wxid_xiaohe_op', '小禾优选-运营小禾', NULL, NULL, false, false);
INSERT INTO public.member VALUES (5, 'wxid_wangnvshi', '王女士', '2024-03-08 02:00:00+00', '2024-03-08 02:03:00+00', false, false);
INSERT INTO public.member VALUES (29, 'wxid_pxmatdkgpjg3pw', '小林同学|成都', '2026-10-26 02:02:47+00', '2026-10-26 02:02:47+00', false, false);
INSERT INTO public.member VALUES (30, 'wxid_5lr0qugvvup013', '不吃香菜', NULL, NULL, false, false);
INSERT INTO public.member VALUES (31, 'wxid_cdeces5b73k3pm', '熬夜冠军', '2026-10-11 14:06:33+00', '2026-10-30 19:43:52+00', false, false);
INSERT INTO public.member VALUES (32, 'wxid_e9o2x4q646qyae', '阿杰|成都', NULL, NULL, false, false);
INSERT INTO public.member VALUES (3, 'wxid_xiaowang', '小王', '2023-11-20 01:32:40+00', '2023-11-20 12:23:00+00', false, false);
INSERT INTO public.member VALUES (6, '20231101888@chatroom', '20231101888@chatroom', '2023-11-20 01:28:20+00', '2023-11-20 12:18:00+00', false, false);
INSERT INTO public.member VALUES (2, 'wxid_zhangli01', '张姐-二宝妈', '2023-11-20 01:30:00+00', '2023-11-20 12:15:00+00', false, false);
INSERT INTO public.member VALUES (4, 'wxid_xiaoli', '小李Lily', '2023-11-20 01:31:40+00', '2023-11-20 12:18:20+00', false, false);
INSERT INTO public.member VALUES (7, 'wechatmsg:group:d79f35034827', 'wechatmsg:group:d79f35034827', '2023-11-20 01:28:20+00', '2023-11-20 01:28:20+00', false, false);
INSERT INTO public.member VALUES (9, 'wxid_5vxnh8gsibo5yx', '小禾助手', '2026-10-01 04:31:02+00', '2026-11-17 13:42:38+00', false, false);
INSERT INTO public.member VALUES (8, 'wxid_efyvxkkqss6nl4', '小禾优选-禾子店长', NULL, NULL, false, false);
INSERT INTO public.member VALUES (10, 'wxid_bjfmdezhpx6z5b', '小禾客服-安安', NULL, NULL, false, false);
INSERT INTO public.member VALUES (21, 'wxid_1scmvg4v6qmi9k', '小满|南京', NULL, NULL, false, false);
INSERT INTO public.member VALUES (13, 'wxid_jl7veka1zh90q2', '晴天|南京', '2026-11-09 13:49:05+00', '2026-11-09 13:49:05+00', false, false);
INSERT INTO public.member VALUES (15, 'wxid_q5nso3j0avhiay', '苏州-嘟嘟妈', '2026-11-12 13:45:59+00', '2026-11-12 13:45:59+00', false, false);
INSERT INTO public.member VALUES (16, 'wxid_31cqup13wvwyrz', '长沙-橙子妈咪', '2026-11-17 07:16:09+00', '2026-11-20 02:13:43+00', false, false);
INSERT INTO public.member VALUES (17, 'wxid_kzbdr19s19vrgl', '橙子妈妈(1岁)', '2026-09-25 16:12:40+00', '2026-09-25 16:12:40+00', false, false);
INSERT INTO public.member VALUES (19, 'wxid_krjzocuik81yq8', '安安麻麻', '2026-11-08 14:05:12+00', '2026-11-10 14:05:54+00', false, false);
INSERT INTO public.member VALUES (22, 'wxid_2b7wcenfseymeq', '南京-小鹿', '2026-10-21 16:32:11+00', '2026-10-21 16:32:11+00', false, false);
INSERT INTO public.member VALUES (23, 'wxid_u7lt58maz82afz', '王阿姨|苏州', '2026-10-21 08:42:24+00', '2026-10-21 08:42:24+00', false, false);
INSERT INTO public.member VALUES (25, 'wxid_91pvms5xx4mur4', '干饭人', '2026-11-17 13:35:12+00', '2026-11-17 13:35:12+00', false, false);
INSERT INTO public.member VALUES (26, 'wxid_dof7wcqor5sn0m', '林小姐', '2026-11-10 04:46:22+00', '2026-11-10 04:46:22+00', false, false);
INSERT INTO public.member VALUES (18, 'wxid_o4cw7pzrdtypob', '静待花开', '2026-11-11 04:06:15+00', '2026-11-14 15:03:23+00', false, false);
INSERT INTO public.member VALUES (24, 'wxid_xakjpgp8xg0735', '奶茶续命', '2026-10-16 06:02:41+00', '2026-11-19 12:44:49+00', false, false);
INSERT INTO public.member VALUES (27, 'wxid_0zxg6dbrmu2t5b', '豆包的主人', '2026-09-30 04:04:44+00', '2026-10-01 04:11:33+00', false, false);


--
-- Data for Name: member_activity; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: member_keywords; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: member_segment; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.member_segment VALUES (1, 6, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 7, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 27, 'growth', 'declining', NULL, 'ordinary', 'c1');
INSERT INTO public.member_segment VALUES (1, 21, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 22, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 37, 'high', 'mature', 'price', 'core', 'c1');
INSERT INTO public.member_segment VALUES (1, 16, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 33, 'growth', 'declining', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 30, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 9, 'growth', 'mature', NULL, 'core', 'c2');
INSERT INTO public.member_segment VALUES (1, 39, 'growth', 'mature', 'service', 'core', 'c1');
INSERT INTO public.member_segment VALUES (1, 20, 'growth', 'declining', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 25, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 28, 'growth', 'mature', NULL, 'core', 'c2');
INSERT INTO public.member_segment VALUES (1, 10, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 31, 'general', 'mature', 'price', 'ordinary', 'c2');
INSERT INTO public.member_segment VALUES (1, 35, 'growth', 'new', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 26, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 32, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 8, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 14, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 11, 'growth', 'declining', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 13, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 19, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 17, 'general', 'declining', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 12, 'growth', 'new', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 18, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 34, 'growth', 'mature', NULL, 'core', 'c2');
INSERT INTO public.member_segment VALUES (1, 29, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 15, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 38, 'high', 'mature', 'quality', 'core', NULL);
INSERT INTO public.member_segment VALUES (1, 23, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 36, 'growth', 'mature', 'price', 'core', 'c2');
INSERT INTO public.member_segment VALUES (1, 5, 'general', 'declining', NULL, 'ordinary', 'c1');
INSERT INTO public.member_segment VALUES (1, 24, 'growth', 'mature', 'price', 'core', 'c1');
INSERT INTO public.member_segment VALUES (1, 1, 'general', 'potential', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 4, 'general', 'declining', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 3, 'general', 'declining', NULL, 'ordinary', NULL);
INSERT INTO public.member_segment VALUES (1, 2, 'general', 'declining', NULL, 'ordinary', 'c1');


--
-- Data for Name: member_tags; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: message; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.message VALUES ('8821000000000000002', '20231101888@chatroom', 2, '2023-11-20 01:32:00+00', 'text', '我要两箱，家里老大老二都爱喝', '{"k":["家里","老大","老二","爱喝"]}', 'tests/data/chatlab_group.json:46');
INSERT INTO public.message VALUES ('8821000000000000003', '20231101888@chatroom', 3, '2023-11-20 01:33:20+00', 'system', '"小王"邀请"小李"加入了群聊', '{"j":{"channel":"invite","inviter":"小王"}}', 'tests/data/chatlab_group.json:55');
INSERT INTO public.message VALUES ('8821000000000000004', '20231101888@chatroom', 4, '2023-11-20 01:35:00+00', 'image', NULL, '{"c":"image"}', 'tests/data/chatlab_group.json:63');
INSERT INTO public.message VALUES ('8821000000000000006', '20231101888@chatroom', 3, '2023-11-20 01:36:40+00', 'link', '[音乐] 宝宝巴士 - 刷牙歌', '{"i":{"parenting":1.0},"c":"link","a":{"life_stage":"parent"},"k":["宝宝","巴士","刷牙"]}', 'tests/data/chatlab_group.json:80');
INSERT INTO public.message VALUES ('8821000000000000007', '20231101888@chatroom', 2, '2023-11-20 12:15:00+00', 'quote', '上次买的纸尿裤有点漏，售后能换吗？', '{"i":{"parenting":1.0},"n":["question"],"m":{"service":1.0},"a":{"life_stage":"parent"},"k":["上次","纸尿裤","售后","能换"]}', 'tests/data/chatlab_group.json:88');
INSERT INTO public.message VALUES ('8821000000000000008', '20231101888@chatroom', 4, '2023-11-20 12:16:00.5+00', 'other', '"小李" 拍了拍 "张姐-二宝妈"', '{"i":{"parenting":1.0},"k":["小李","拍了拍","张姐","宝妈"]}', 'tests/data/chatlab_group.json:98');
INSERT INTO public.message VALUES ('8821000000000000009', '20231101888@chatroom', 3, '2023-11-20 12:16:40+00', 'other', '[未知消息]', '{}', 'tests/data/chatlab_group.json:107');
INSERT INTO public.message VALUES ('h:132ca1b9f4e63723ccc0', '20231101888@chatroom', 4, '2023-11-20 12:18:20+00', 'text', '我也想拼一箱，还能上车吗？', '{"n":["question","purchase_intent"]}', 'tests/data/chatlab_group.json:115');
INSERT INTO public.message VALUES ('h:1cabcdfe634552912c11', 'chatlab:wechat:private:0ce8e67d342c', 5, '2024-03-08 02:00:00+00', 'text', '你好，我 3 号买的奶粉到现在还没发货，能帮忙查一下吗？', '{"i":{"parenting":1.0},"n":["question","complaint"],"m":{"service":1.0},"a":{"life_stage":"parent"},"k":["奶粉","还没发货"]}', 'tests/data/chatlab_private.jsonl:6');
INSERT INTO public.message VALUES ('h:8da15f68a0e8f276b32c', 'chatlab:wechat:private:0ce8e67d342c', 5, '2024-03-08 02:02:00+00', 'image', NULL, '{"c":"image"}', 'tests/data/chatlab_private.jsonl:8');
INSERT INTO public.message VALUES ('h:eccb1b506132f2350291', 'chatlab:wechat:private:0ce8e67d342c', 5, '2024-03-08 02:03:00+00', 'text', '上次的纸尿裤也有点漏，这次再不行我就要退货了', '{"i":{"parenting":1.0},"n":["complaint"],"m":{"service":1.0},"a":{"life_stage":"parent"},"k":["上次","纸尿裤","就要","退货"]}', 'tests/data/chatlab_private.jsonl:9');
INSERT INTO public.message VALUES ('h:23e3734d4c7391e125f0', '20231101888@chatroom', 6, '2023-11-20 01:28:20+00', 'system', '"小王"邀请"小李"加入了群聊', '{"j":{"channel":"invite","inviter":"小王"}}', 'tests/data/wechatmsg_group.csv:2');
INSERT INTO public.message VALUES ('h:3c8df2aef3baf2fbec33', '20231101888@chatroom', 3, '2023-11-20 12:22:00+00', 'link', NULL, '{"c":"link"}', 'tests/data/wechatmsg_group.csv:24');
INSERT INTO public.message VALUES ('h:402147a80f36ad648f39', '20231101888@chatroom', 4, '2023-11-20 01:31:40+00', 'image', NULL, '{"c":"image"}', 'tests/data/wechatmsg_group.csv:5');
INSERT INTO public.message VALUES ('h:50024e4963d7fe035e36', '20231101888@chatroom', 4, '2023-11-20 12:17:00+00', 'text', '好的
我晚上下班来拿', '{"k":["下班"]}', 'tests/data/wechatmsg_group.csv:18');
INSERT INTO public.message VALUES ('h:61554205577c910633ed', '20231101888@chatroom', 2, '2023-11-20 12:15:00+00', 'quote', '纸尿裤侧漏的问题，售后能换吗？', '{"i":{"parenting":1.0},"n":["question","complaint"],"m":{"service":1.0},"a":{"life_stage":"parent"},"k":["纸尿裤","侧漏","售后","能换"]}', 'tests/data/wechatmsg_group.csv:16');
INSERT INTO public.message VALUES ('h:64b41e33e223f6c2b056', '20231101888@chatroom', 3, '2023-11-20 12:19:00+00', 'voice', NULL, '{}', 'tests/data/wechatmsg_group.csv:21');
INSERT INTO public.message VALUES ('h:6caed3d1dde34a17da5a', '20231101888@chatroom', 2, '2023-11-20 01:30:00+00', 'text', '牛奶我要两箱，家里老大老二都爱喝', '{"k":["牛奶","家里","老大","老二","爱喝"]}', 'tests/data/wechatmsg_group.csv:3');
INSERT INTO public.message VALUES ('h:6db248efff8d95bc2aee', '20231101888@chatroom', 3, '2023-11-20 12:20:00+00', 'sticker', NULL, '{}', 'tests/data/wechatmsg_group.csv:22');
INSERT INTO public.message VALUES ('h:b1f618f22c8ffa352f68', '20231101888@chatroom', 3, '2023-11-20 12:23:00+00', 'other', '奇怪的新消息类型', '{"k":["奇怪","消息","类型"]}', 'tests/data/wechatmsg_group.csv:25');
INSERT INTO public.message VALUES ('h:b8320a8a39dc7e6d8294', '20231101888@chatroom', 3, '2023-11-20 01:32:40+00', 'link', '宝宝辅食添加时间表（收藏版）', '{"i":{"parenting":2.0},"c":"link","a":{"life_stage":"parent"},"k":["宝宝","辅食","添加","时间表","收藏版"]}', 'tests/data/wechatmsg_group.csv:6');
INSERT INTO public.message VALUES ('h:c1a987346b37689fe5f3', '20231101888@chatroom', 6, '2023-11-20 12:18:00+00', 'recall', '"小王" 撤回了一条消息', '{}', 'tests/data/wechatmsg_group.csv:20');
INSERT INTO public.message VALUES ('h:cccb4f73bf3134b354f9', '20231101888@chatroom', 3, '2023-11-20 12:21:00+00', 'location', '上海市杨浦区五角场万达广场', '{}', 'tests/data/wechatmsg_group.csv:23');
INSERT INTO public.message VALUES ('h:4f190e810dc87bb25821', 'wechatmsg:group:d79f35034827', 4, '2023-11-20 01:31:40+00', 'text', '给我留一盒', '{"n":["purchase_intent"]}', 'tests/data/宝妈群_utf8.csv:5');
INSERT INTO public.message VALUES ('h:dd69c7286329a1ce085c', 'wechatmsg:group:d79f35034827', 7, '2023-11-20 01:28:20+00', 'system', '"小王"邀请"小李"加入了群聊', '{"j":{"channel":"invite","inviter":"小王"}}', 'tests/data/宝妈群_utf8.csv:2');
INSERT INTO public.message VALUES ('h:fb5bedc26ffddf7998f3', 'wechatmsg:group:d79f35034827', 2, '2023-11-20 01:30:00+00', 'text', '今天的草莓甜不甜？', '{"n":["question"],"k":["草莓"]}', 'tests/data/宝妈群_utf8.csv:3');
INSERT INTO public.message VALUES ('xh-newbie-0001', '16608239626@chatroom', 17, '2026-09-25 16:12:40+00', 'text', '我在杭州，一般几天能到？[疑问]', '{"n":["question"],"a":{"city":"杭州"},"k":["杭州"]}', 'bot/data/sample/group-newbie.json:27');
INSERT INTO public.message VALUES ('xh-newbie-0002', '16608239626@chatroom', 27, '2026-09-30 04:04:44+00', 'text', '在上海上班，每天通勤一个小时', '{"k":["上海","上班","每天","通勤","小时"]}', 'bot/data/sample/group-newbie.json:28');
INSERT INTO public.message VALUES ('xh-newbie-0003', '16608239626@chatroom', 27, '2026-10-01 04:11:33+00', 'text', '猫粮现在下单划算还是等双十二？', '{"i":{"pets":1.0},"n":["question","purchase_intent"],"m":{"price":1.0},"k":["猫粮","划算"]}', 'bot/data/sample/group-newbie.json:29');
INSERT INTO public.message VALUES ('xh-newbie-0004', '16608239626@chatroom', 9, '2026-10-01 04:31:02+00', 'text', '@豆包的主人 群公告里有优惠券入口，会员日还能叠加，很划算～', '{"n":["praise"],"m":{"price":2.0},"k":["群公告","优惠券","入口","会员日","叠加","划算"]}', 'bot/data/sample/group-newbie.json:30');
INSERT INTO public.message VALUES ('xh-newbie-0005', '16608239626@chatroom', 24, '2026-10-16 06:02:41+00', 'system', '"小禾助手"邀请"奶茶续命"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:31');
INSERT INTO public.message VALUES ('xh-newbie-0006', '16608239626@chatroom', 9, '2026-10-16 06:03:45+00', 'text', '欢迎新朋友@奶茶续命 ～群里每周三会员日，记得来领券哦', '{"m":{"price":1.0},"k":["朋友","每周三","会员日","记得","领券"]}', 'bot/data/sample/group-newbie.json:32');
INSERT INTO public.message VALUES ('xh-newbie-0007', '16608239626@chatroom', 23, '2026-10-21 08:42:24+00', 'system', '"小禾助手"邀请"王阿姨"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:33');
INSERT INTO public.message VALUES ('xh-newbie-0008', '16608239626@chatroom', 9, '2026-10-21 08:43:06+00', 'text', '欢迎新朋友@王阿姨 ～群里每周三会员日，记得来领券哦', '{"m":{"price":1.0},"k":["朋友","每周三","会员日","记得","领券"]}', 'bot/data/sample/group-newbie.json:34');
INSERT INTO public.message VALUES ('xh-newbie-0009', '16608239626@chatroom', 22, '2026-10-21 16:32:11+00', 'system', '"小禾助手"邀请"小鹿"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:35');
INSERT INTO public.message VALUES ('xh-newbie-0010', '16608239626@chatroom', 9, '2026-10-21 16:39:12+00', 'text', '欢迎@小鹿 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:36');
INSERT INTO public.message VALUES ('xh-digital-0009', '71147682976@chatroom', 28, '2026-10-11 12:08:44+00', 'sticker', NULL, '{}', 'bot/data/sample/group-digital.json:26');
INSERT INTO public.message VALUES ('xh-newbie-0011', '16608239626@chatroom', 12, '2026-10-22 16:04:04+00', 'system', '"小禾助手"邀请"豆豆妈咪"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:37');
INSERT INTO public.message VALUES ('xh-newbie-0012', '16608239626@chatroom', 9, '2026-10-22 16:09:05+00', 'text', '欢迎@豆豆妈咪 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:38');
INSERT INTO public.message VALUES ('xh-newbie-0013', '16608239626@chatroom', 24, '2026-11-08 11:24:41+00', 'text', '旅行收纳袋还有吗？我想再买两套', '{"i":{"travel":1.0},"n":["question"],"k":["旅行","收纳袋"]}', 'bot/data/sample/group-newbie.json:39');
INSERT INTO public.message VALUES ('xh-newbie-0014', '16608239626@chatroom', 9, '2026-11-08 11:36:25+00', 'text', '@奶茶续命 收到～小程序下单备注群昵称，优先发货', '{"n":["purchase_intent"],"m":{"service":1.0},"k":["小程序","备注","昵称","优先","发货"]}', 'bot/data/sample/group-newbie.json:40');
INSERT INTO public.message VALUES ('xh-newbie-0015', '16608239626@chatroom', 19, '2026-11-08 14:05:12+00', 'system', '"安安麻麻"通过扫描"小禾助手"分享的二维码加入群聊', '{"j":{"channel":"qrcode","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:41');
INSERT INTO public.message VALUES ('xh-newbie-0016', '16608239626@chatroom', 9, '2026-11-08 14:11:36+00', 'text', '欢迎@安安麻麻 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:42');
INSERT INTO public.message VALUES ('xh-newbie-0017', '16608239626@chatroom', 13, '2026-11-09 13:49:05+00', 'system', '"米粒妈"邀请"晴天"加入了群聊', '{"j":{"channel":"invite","inviter":"米粒妈"}}', 'bot/data/sample/group-newbie.json:43');
INSERT INTO public.message VALUES ('xh-newbie-0018', '16608239626@chatroom', 9, '2026-11-09 13:54:59+00', 'text', '欢迎@晴天 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:44');
INSERT INTO public.message VALUES ('xh-newbie-0019', '16608239626@chatroom', 26, '2026-11-10 04:46:22+00', 'system', '"等待小豆芽"邀请"林小姐"加入了群聊', '{"j":{"channel":"invite","inviter":"等待小豆芽"}}', 'bot/data/sample/group-newbie.json:45');
INSERT INTO public.message VALUES ('xh-newbie-0020', '16608239626@chatroom', 9, '2026-11-10 04:49:13+00', 'text', '欢迎@林小姐 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:46');
INSERT INTO public.message VALUES ('xh-newbie-0021', '16608239626@chatroom', 14, '2026-11-10 12:04:39+00', 'system', '"米粒妈"邀请"果果妈妈"加入了群聊', '{"j":{"channel":"invite","inviter":"米粒妈"}}', 'bot/data/sample/group-newbie.json:47');
INSERT INTO public.message VALUES ('xh-newbie-0022', '16608239626@chatroom', 9, '2026-11-10 12:10:45+00', 'text', '欢迎新朋友@果果妈妈 ～群里每周三会员日，记得来领券哦', '{"m":{"price":1.0},"k":["朋友","每周三","会员日","记得","领券"]}', 'bot/data/sample/group-newbie.json:48');
INSERT INTO public.message VALUES ('xh-newbie-0023', '16608239626@chatroom', 19, '2026-11-10 14:05:54+00', 'text', '大家好，新人报到🙋 杭州的姐妹有吗？', '{"n":["question"],"k":["新人","杭州"]}', 'bot/data/sample/group-newbie.json:49');
INSERT INTO public.message VALUES ('xh-newbie-0024', '16608239626@chatroom', 18, '2026-11-11 04:06:15+00', 'system', '"小禾助手"邀请"静待花开"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:50');
INSERT INTO public.message VALUES ('xh-newbie-0025', '16608239626@chatroom', 9, '2026-11-11 04:06:56+00', 'text', '欢迎@静待花开 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:51');
INSERT INTO public.message VALUES ('xh-newbie-0026', '16608239626@chatroom', 15, '2026-11-12 13:45:59+00', 'system', '"小禾助手"邀请"嘟嘟妈"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:52');
INSERT INTO public.message VALUES ('xh-newbie-0027', '16608239626@chatroom', 9, '2026-11-12 13:55:38+00', 'text', '欢迎新朋友@嘟嘟妈 ～群里每周三会员日，记得来领券哦', '{"m":{"price":1.0},"k":["朋友","每周三","会员日","记得","领券"]}', 'bot/data/sample/group-newbie.json:53');
INSERT INTO public.message VALUES ('xh-newbie-0028', '16608239626@chatroom', 14, '2026-11-13 09:14:34+00', 'text', '大家好，新人报到🙋 我家宝宝10个月了', '{"i":{"parenting":1.0},"a":{"life_stage":"parent"},"k":["新人","宝宝"]}', 'bot/data/sample/group-newbie.json:54');
INSERT INTO public.message VALUES ('xh-newbie-0029', '16608239626@chatroom', 18, '2026-11-14 15:03:23+00', 'text', '大家好，新人报到🙋 我在深圳，一般几天能到？', '{"n":["question"],"a":{"city":"深圳"},"k":["新人","深圳"]}', 'bot/data/sample/group-newbie.json:55');
INSERT INTO public.message VALUES ('xh-newbie-0030', '16608239626@chatroom', 16, '2026-11-17 07:16:09+00', 'system', '"小禾助手"邀请"橙子妈咪"加入了群聊', '{"j":{"channel":"invite","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:56');
INSERT INTO public.message VALUES ('xh-newbie-0031', '16608239626@chatroom', 9, '2026-11-17 07:19:35+00', 'text', '欢迎新朋友@橙子妈咪 ～群里每周三会员日，记得来领券哦', '{"m":{"price":1.0},"k":["朋友","每周三","会员日","记得","领券"]}', 'bot/data/sample/group-newbie.json:57');
INSERT INTO public.message VALUES ('xh-newbie-0032', '16608239626@chatroom', 25, '2026-11-17 13:35:12+00', 'system', '"干饭人"通过扫描"小禾助手"分享的二维码加入群聊', '{"j":{"channel":"qrcode","inviter":"小禾助手"}}', 'bot/data/sample/group-newbie.json:58');
INSERT INTO public.message VALUES ('xh-newbie-0033', '16608239626@chatroom', 9, '2026-11-17 13:42:38+00', 'text', '欢迎@干饭人 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-newbie.json:59');
INSERT INTO public.message VALUES ('xh-newbie-0034', '16608239626@chatroom', 24, '2026-11-19 12:44:49+00', 'text', '[旺柴]', '{}', 'bot/data/sample/group-newbie.json:60');
INSERT INTO public.message VALUES ('xh-newbie-0035', '16608239626@chatroom', 16, '2026-11-20 02:13:43+00', 'text', '厨房油烟机好难清洗', '{"i":{"home":1.0},"k":["厨房","油烟机","好难","清洗"]}', 'bot/data/sample/group-newbie.json:61');
INSERT INTO public.message VALUES ('xh-digital-0001', '71147682976@chatroom', 28, '2026-09-24 00:39:01+00', 'text', 'Switch上有什么适合两个人玩的游戏', '{"i":{"games":2.0},"n":["question"],"k":["Switch","适合","游戏"]}', 'bot/data/sample/group-digital.json:18');
INSERT INTO public.message VALUES ('xh-digital-0002', '71147682976@chatroom', 36, '2026-09-25 11:09:26+00', 'text', '我们深圳今天降温了，好冷', '{"a":{"city":"深圳"},"k":["深圳","降温"]}', 'bot/data/sample/group-digital.json:19');
INSERT INTO public.message VALUES ('xh-digital-0003', '71147682976@chatroom', 28, '2026-09-27 15:33:19+00', 'text', '晚安各位', '{}', 'bot/data/sample/group-digital.json:20');
INSERT INTO public.message VALUES ('xh-digital-0004', '71147682976@chatroom', 28, '2026-10-01 10:37:33+00', 'text', '说一下数据线用了四周的感受：就是物流慢了一点，等了四天，做工比想象中好，客服回复也挺及时的，质量很扎实。总体满意，推荐！', '{"i":{"digital":1.0},"n":["complaint","praise"],"m":{"quality":2.0,"service":2.0},"k":["数据线","感受","物流","做工","想象","中好"]}', 'bot/data/sample/group-digital.json:21');
INSERT INTO public.message VALUES ('xh-digital-0005', '71147682976@chatroom', 28, '2026-10-04 09:04:22+00', 'text', '研究生在读，天天熬夜写论文', '{"i":{"health":1.0},"k":["研究生","在读","天天","熬夜","论文"]}', 'bot/data/sample/group-digital.json:22');
INSERT INTO public.message VALUES ('xh-digital-0006', '71147682976@chatroom', 28, '2026-10-10 01:25:01+00', 'text', '有平板支架的优惠券吗？', '{"i":{"digital":1.0},"n":["question"],"m":{"price":1.0},"k":["平板","支架","优惠券"]}', 'bot/data/sample/group-digital.json:23');
INSERT INTO public.message VALUES ('xh-digital-0007', '71147682976@chatroom', 9, '2026-10-10 01:40:37+00', 'text', '@KK 群公告里有优惠券入口，会员日还能叠加，很划算～', '{"n":["praise"],"m":{"price":2.0},"k":["群公告","优惠券","入口","会员日","叠加","划算"]}', 'bot/data/sample/group-digital.json:24');
INSERT INTO public.message VALUES ('xh-digital-0010', '71147682976@chatroom', 28, '2026-10-11 12:15:20+00', 'sticker', NULL, '{}', 'bot/data/sample/group-digital.json:27');
INSERT INTO public.message VALUES ('xh-digital-0011', '71147682976@chatroom', 28, '2026-10-11 12:21:21+00', 'text', '[捂脸]', '{}', 'bot/data/sample/group-digital.json:28');
INSERT INTO public.message VALUES ('xh-digital-0012', '71147682976@chatroom', 31, '2026-10-11 14:06:33+00', 'text', '降噪耳机哪款性价比高？[疑问]', '{"i":{"digital":1.0},"n":["question"],"m":{"price":1.0},"k":["降噪","耳机","性价比"]}', 'bot/data/sample/group-digital.json:29');
INSERT INTO public.message VALUES ('xh-digital-0013', '71147682976@chatroom', 28, '2026-10-12 23:43:09+00', 'text', '我在广州上大学', '{"a":{"city":"广州"},"k":["广州","大学"]}', 'bot/data/sample/group-digital.json:30');
INSERT INTO public.message VALUES ('xh-digital-0014', '71147682976@chatroom', 34, '2026-10-15 12:41:43+00', 'text', '出牙期一直流口水，围兜换个不停', '{"k":["出牙期","流口水","围兜","换个","不停"]}', 'bot/data/sample/group-digital.json:31');
INSERT INTO public.message VALUES ('xh-digital-0015', '71147682976@chatroom', 31, '2026-10-15 14:38:39+00', 'text', '大三了，宿舍里用', '{"a":{"life_stage":"student"},"k":["大三","宿舍"]}', 'bot/data/sample/group-digital.json:32');
INSERT INTO public.message VALUES ('xh-digital-0016', '71147682976@chatroom', 28, '2026-10-16 22:01:03+00', 'text', '新买的智能体脂秤续航怎么样？', '{"i":{"fitness":1.0,"auto":1.0},"n":["question"],"k":["新买","智能","体脂","续航"]}', 'bot/data/sample/group-digital.json:33');
INSERT INTO public.message VALUES ('xh-digital-0017', '71147682976@chatroom', 9, '2026-10-18 12:00:10+00', 'text', '【晒单有礼】晒出你买的平板支架，抽3位送数据线一根', '{"i":{"digital":2.0},"k":["晒单","有礼","晒出","平板","支架","位送"]}', 'bot/data/sample/group-digital.json:34');
INSERT INTO public.message VALUES ('xh-digital-0018', '71147682976@chatroom', 9, '2026-10-18 12:00:38+00', 'mini_program', '[小程序] 小禾优选 平板支架3人团 ¥41.9', '{"i":{"digital":1.0},"c":"mini_program","k":["小禾","优选","平板","支架","人团"]}', 'bot/data/sample/group-digital.json:35');
INSERT INTO public.message VALUES ('xh-digital-0019', '71147682976@chatroom', 36, '2026-10-18 12:04:49+00', 'text', '好的👌', '{}', 'bot/data/sample/group-digital.json:36');
INSERT INTO public.message VALUES ('xh-digital-0020', '71147682976@chatroom', 36, '2026-10-18 12:08:24+00', 'text', '平板支架还有吗？我想再买四个', '{"i":{"digital":1.0},"n":["question"],"k":["平板","支架"]}', 'bot/data/sample/group-digital.json:37');
INSERT INTO public.message VALUES ('xh-digital-0021', '71147682976@chatroom', 36, '2026-10-18 12:09:00+00', 'sticker', NULL, '{}', 'bot/data/sample/group-digital.json:38');
INSERT INTO public.message VALUES ('xh-digital-0022', '71147682976@chatroom', 9, '2026-10-18 12:13:24+00', 'text', '@浩然爸爸 收到～小程序下单备注群昵称，优先发货', '{"n":["purchase_intent"],"m":{"service":1.0},"k":["小程序","备注","昵称","优先","发货"]}', 'bot/data/sample/group-digital.json:39');
INSERT INTO public.message VALUES ('xh-digital-0023', '71147682976@chatroom', 36, '2026-10-19 11:52:42+00', 'image', '[图片]', '{"c":"image"}', 'bot/data/sample/group-digital.json:40');
INSERT INTO public.message VALUES ('xh-digital-0024', '71147682976@chatroom', 34, '2026-10-24 00:55:38+00', 'text', '双十一入了个平板，给孩子上网课用', '{"i":{"digital":1.0,"education":1.0},"k":["双十","平板","孩子","网课"]}', 'bot/data/sample/group-digital.json:41');
INSERT INTO public.message VALUES ('xh-digital-0025', '71147682976@chatroom', 29, '2026-10-26 02:02:47+00', 'system', '"小林同学"通过扫描"小禾助手"分享的二维码加入群聊', '{"j":{"channel":"qrcode","inviter":"小禾助手"}}', 'bot/data/sample/group-digital.json:42');
INSERT INTO public.message VALUES ('xh-digital-0026', '71147682976@chatroom', 9, '2026-10-26 02:10:35+00', 'text', '欢迎@小林同学 加入小禾优选大家庭🎉 新人专享券已放群公告，有问题随时@我～', '{"k":["加入","小禾","优选","大家庭","新人","专享券"]}', 'bot/data/sample/group-digital.json:43');
INSERT INTO public.message VALUES ('xh-digital-0027', '71147682976@chatroom', 28, '2026-10-27 12:23:01+00', 'link', '儿童手表怎么选？看这篇就够了', '{"i":{"parenting":1.0},"n":["question"],"c":"link","k":["儿童","手表","这篇"]}', 'bot/data/sample/group-digital.json:44');
INSERT INTO public.message VALUES ('xh-digital-0028', '71147682976@chatroom', 31, '2026-10-30 19:43:52+00', 'text', '有游戏手柄的优惠券吗？', '{"i":{"games":1.0},"n":["question"],"m":{"price":1.0},"k":["游戏","手柄","优惠券"]}', 'bot/data/sample/group-digital.json:45');
INSERT INTO public.message VALUES ('xh-digital-0029', '71147682976@chatroom', 28, '2026-10-30 23:04:42+00', 'image', '[图片]', '{"c":"image"}', 'bot/data/sample/group-digital.json:46');
INSERT INTO public.message VALUES ('xh-digital-0030', '71147682976@chatroom', 9, '2026-10-31 01:24:49+00', 'text', '@熬夜冠军 亲，游戏手柄现在拼团价228.9元，领券中心还有满99减10的券哦', '{"i":{"games":1.0},"m":{"price":2.0},"k":["游戏","手柄","拼团","领券","中心"]}', 'bot/data/sample/group-digital.json:47');
INSERT INTO public.message VALUES ('xh-digital-0031', '71147682976@chatroom', 28, '2026-10-31 04:57:07+00', 'image', '[图片]', '{"c":"image"}', 'bot/data/sample/group-digital.json:48');
INSERT INTO public.message VALUES ('xh-digital-0032', '71147682976@chatroom', 28, '2026-11-01 02:56:21+00', 'text', '发货不慢啊，我的两天就到了', '{"m":{"service":1.0},"k":["发货","不慢"]}', 'bot/data/sample/group-digital.json:49');
INSERT INTO public.message VALUES ('xh-digital-0033', '71147682976@chatroom', 28, '2026-11-01 08:42:25+00', 'text', '王者又连跪了，心态崩了', '{"k":["王者","心态"]}', 'bot/data/sample/group-digital.json:50');
INSERT INTO public.message VALUES ('xh-digital-0034', '71147682976@chatroom', 28, '2026-11-05 00:17:57+00', 'text', '没问题，收到了，谢谢小禾', '{"k":["小禾"]}', 'bot/data/sample/group-digital.json:51');
INSERT INTO public.message VALUES ('xh-digital-0035', '71147682976@chatroom', 28, '2026-11-05 12:34:55+00', 'text', '塞尔达又连跪了，心态崩了', '{"i":{"games":1.0},"k":["塞尔达","心态"]}', 'bot/data/sample/group-digital.json:52');
INSERT INTO public.message VALUES ('xh-digital-0036', '71147682976@chatroom', 28, '2026-11-06 03:56:34+00', 'sticker', NULL, '{}', 'bot/data/sample/group-digital.json:53');
INSERT INTO public.message VALUES ('xh-digital-0037', '71147682976@chatroom', 9, '2026-11-06 12:30:17+00', 'text', '【新品上架】平板支架到货了，群友专享价38.9元，明天中午12点开抢', '{"i":{"digital":1.0},"m":{"service":1.0},"k":["新品","上架","平板","支架","到货","群友"]}', 'bot/data/sample/group-digital.json:54');
INSERT INTO public.message VALUES ('xh-digital-0038', '71147682976@chatroom', 9, '2026-11-06 12:31:40+00', 'mini_program', '[小程序] 小禾优选 拼团', '{"c":"mini_program","k":["小禾","优选","拼团"]}', 'bot/data/sample/group-digital.json:55');
INSERT INTO public.message VALUES ('xh-digital-0039', '71147682976@chatroom', 34, '2026-11-06 12:32:19+00', 'text', '发什么快递？上海几天能到？', '{"n":["question"],"m":{"service":1.0},"k":["快递","上海"]}', 'bot/data/sample/group-digital.json:56');
INSERT INTO public.message VALUES ('xh-digital-0040', '71147682976@chatroom', 9, '2026-11-06 12:45:44+00', 'text', '@程序员老陈 亲，已经帮您查了，今天会安排发出，不合适也支持7天无理由退换', '{"m":{"service":1.0},"k":["安排","发出","合适","支持","天无","理由"]}', 'bot/data/sample/group-digital.json:57');
INSERT INTO public.message VALUES ('xh-digital-0041', '71147682976@chatroom', 28, '2026-11-08 05:37:50+00', 'text', '降噪耳机哪款性价比高？', '{"i":{"digital":1.0},"n":["question"],"m":{"price":1.0},"k":["降噪","耳机","性价比"]}', 'bot/data/sample/group-digital.json:58');
INSERT INTO public.message VALUES ('xh-digital-0042', '71147682976@chatroom', 28, '2026-11-11 01:17:36+00', 'mini_program', '[小程序] 小禾优选 拼团', '{"c":"mini_program","k":["小禾","优选","拼团"]}', 'bot/data/sample/group-digital.json:59');
INSERT INTO public.message VALUES ('xh-digital-0043', '71147682976@chatroom', 28, '2026-11-14 07:58:16+00', 'text', '客服小姐姐很耐心，点赞👍', '{"n":["praise"],"m":{"service":1.0},"k":["客服","小姐姐","耐心"]}', 'bot/data/sample/group-digital.json:60');
INSERT INTO public.message VALUES ('xh-digital-0044', '71147682976@chatroom', 28, '2026-11-17 00:41:13+00', 'text', '手机散热器一次买几个合适？', '{"i":{"digital":1.0},"n":["question"],"k":["手机","散热器","合适"]}', 'bot/data/sample/group-digital.json:61');
INSERT INTO public.message VALUES ('xh-dm-price-0001', 'chatlab:wechat:private:9e7c359c87d1', 37, '2026-10-28 13:20:44+00', 'text', '在吗？纸尿裤有没有优惠券呀？', '{"i":{"parenting":1.0},"n":["question"],"m":{"price":1.0},"a":{"life_stage":"parent"},"k":["纸尿裤","优惠券"]}', 'bot/data/sample/private-price.json:9');
INSERT INTO public.message VALUES ('xh-dm-price-0002', 'chatlab:wechat:private:9e7c359c87d1', 9, '2026-10-28 13:22:28+00', 'text', '在的亲～三人拼团84.9元一包，再用满199减20的券', '{"m":{"price":1.0},"k":["拼团","再用"]}', 'bot/data/sample/private-price.json:10');
INSERT INTO public.message VALUES ('xh-dm-price-0003', 'chatlab:wechat:private:9e7c359c87d1', 37, '2026-10-28 13:22:55+00', 'text', '太贵了，上次活动才61.9', '{"n":["complaint"],"m":{"price":1.0},"k":["太贵","上次","活动"]}', 'bot/data/sample/private-price.json:11');
INSERT INTO public.message VALUES ('xh-dm-price-0004', 'chatlab:wechat:private:9e7c359c87d1', 9, '2026-10-28 13:24:07+00', 'text', '理解的～周三会员日还有一波，到时候我提前通知您', '{"k":["理解","周三","会员日","到时候","提前","通知"]}', 'bot/data/sample/private-price.json:12');
INSERT INTO public.message VALUES ('xh-dm-price-0005', 'chatlab:wechat:private:9e7c359c87d1', 37, '2026-10-28 13:25:46+00', 'text', '好，那我等会员日，到时候拼单叫我', '{"n":["purchase_intent"],"m":{"price":1.0},"k":["会员日","到时候","拼单"]}', 'bot/data/sample/private-price.json:13');
INSERT INTO public.message VALUES ('xh-dm-price-0006', 'chatlab:wechat:private:9e7c359c87d1', 37, '2026-10-28 13:27:22+00', 'sticker', NULL, '{}', 'bot/data/sample/private-price.json:14');
INSERT INTO public.message VALUES ('xh-dm-price-0007', 'chatlab:wechat:private:9e7c359c87d1', 9, '2026-11-04 02:12:49+00', 'text', '亲，会员日开始啦，纸尿裤拼团加券到手66.9元', '{"i":{"parenting":1.0},"a":{"life_stage":"parent"},"k":["会员日","开始","纸尿裤","拼团","加券","到手"]}', 'bot/data/sample/private-price.json:15');
INSERT INTO public.message VALUES ('xh-dm-price-0008', 'chatlab:wechat:private:9e7c359c87d1', 9, '2026-11-04 02:15:24+00', 'mini_program', '[小程序] 小禾优选 拼团', '{"c":"mini_program","k":["小禾","优选","拼团"]}', 'bot/data/sample/private-price.json:16');
INSERT INTO public.message VALUES ('xh-dm-price-0009', 'chatlab:wechat:private:9e7c359c87d1', 37, '2026-11-04 12:16:12+00', 'text', '券领到了，已下单两包纸尿裤', '{"i":{"parenting":1.0},"n":["purchase_intent"],"m":{"price":1.0},"a":{"life_stage":"parent"},"k":["领到","纸尿裤"]}', 'bot/data/sample/private-price.json:17');
INSERT INTO public.message VALUES ('xh-dm-price-0010', 'chatlab:wechat:private:9e7c359c87d1', 9, '2026-11-04 12:19:36+00', 'text', '收到～今天就给您发出', '{"k":["发出"]}', 'bot/data/sample/private-price.json:18');
INSERT INTO public.message VALUES ('xh-dm-price-0011', 'chatlab:wechat:private:9e7c359c87d1', 37, '2026-11-04 12:21:24+00', 'text', '这次价格不贵，赞', '{"n":["praise"],"m":{"price":2.0},"k":["价格"]}', 'bot/data/sample/private-price.json:19');
INSERT INTO public.message VALUES ('xh-dm-quality-0001', 'chatlab:wechat:private:14a69b3d7ff9', 38, '2026-10-29 06:12:38+00', 'text', '你好，想问一下孕妇DHA是藻油的还是鱼油的？', '{"n":["question"],"a":{"life_stage":"expecting"},"k":["孕妇","DHA","藻油","鱼油"]}', 'bot/data/sample/private-quality.json:9');
INSERT INTO public.message VALUES ('xh-dm-quality-0002', 'chatlab:wechat:private:14a69b3d7ff9', 9, '2026-10-29 06:13:20+00', 'text', '您好～这款是进口藻油，品牌官方授权，每批都有检测报告', '{"m":{"quality":3.0},"k":["进口","藻油","品牌","官方","授权","每批"]}', 'bot/data/sample/private-quality.json:10');
INSERT INTO public.message VALUES ('xh-dm-quality-0003', 'chatlab:wechat:private:14a69b3d7ff9', 38, '2026-10-29 06:15:42+00', 'text', '能发一下成分表和检测报告吗？我比较在意这个', '{"n":["question"],"m":{"quality":2.0},"k":["能发","成分表","检测","报告","在意"]}', 'bot/data/sample/private-quality.json:11');
INSERT INTO public.message VALUES ('xh-dm-quality-0004', 'chatlab:wechat:private:14a69b3d7ff9', 9, '2026-10-29 06:18:52+00', 'image', '[图片]', '{"c":"image"}', 'bot/data/sample/private-quality.json:12');
INSERT INTO public.message VALUES ('xh-dm-quality-0005', 'chatlab:wechat:private:14a69b3d7ff9', 9, '2026-10-29 06:22:02+00', 'text', '这是最新批次的报告，您看一下', '{"k":["这是","最新","批次","报告"]}', 'bot/data/sample/private-quality.json:13');
INSERT INTO public.message VALUES ('xh-dm-quality-0006', 'chatlab:wechat:private:14a69b3d7ff9', 38, '2026-10-29 06:23:26+00', 'text', '好的，看了下成分挺干净的，是正品就行', '{"m":{"quality":2.0},"k":["成分","干净","正品","就行"]}', 'bot/data/sample/private-quality.json:14');
INSERT INTO public.message VALUES ('xh-dm-quality-0007', 'chatlab:wechat:private:14a69b3d7ff9', 38, '2026-10-29 06:25:29+00', 'text', '那我先买一盒试试', '{"k":["先买"]}', 'bot/data/sample/private-quality.json:15');
INSERT INTO public.message VALUES ('xh-dm-quality-0008', 'chatlab:wechat:private:14a69b3d7ff9', 9, '2026-10-29 06:28:38+00', 'mini_program', '[小程序] 小禾优选 孕妇DHA', '{"c":"mini_program","a":{"life_stage":"expecting"},"k":["小禾","优选","孕妇","DHA"]}', 'bot/data/sample/private-quality.json:16');
INSERT INTO public.message VALUES ('xh-dm-quality-0009', 'chatlab:wechat:private:14a69b3d7ff9', 38, '2026-11-08 06:30:23+00', 'text', '孕妇DHA吃完了，感觉不错，再来两盒', '{"n":["praise"],"a":{"life_stage":"expecting"},"k":["孕妇","DHA"]}', 'bot/data/sample/private-quality.json:17');
INSERT INTO public.message VALUES ('xh-dm-quality-0010', 'chatlab:wechat:private:14a69b3d7ff9', 9, '2026-11-08 06:32:22+00', 'text', '好嘞，已经给您备注优先发货了', '{"m":{"service":1.0},"k":["备注","优先","发货"]}', 'bot/data/sample/private-quality.json:18');
INSERT INTO public.message VALUES ('xh-dm-service-0001', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-26 00:37:22+00', 'text', '小禾你好，我前天买的维生素D滴剂收到了，有一瓶破损了', '{"i":{"health":1.0},"n":["complaint"],"k":["小禾","前天","维生素","滴剂"]}', 'bot/data/sample/private-service.json:9');
INSERT INTO public.message VALUES ('xh-dm-service-0002', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-26 00:38:59+00', 'image', '[图片]', '{"c":"image"}', 'bot/data/sample/private-service.json:10');
INSERT INTO public.message VALUES ('xh-dm-service-0003', 'chatlab:wechat:private:dab093c29bad', 9, '2026-10-26 00:39:40+00', 'text', '您好，非常抱歉给您添麻烦了！麻烦发一下订单号，我这边马上给您登记补发', '{"m":{"service":1.0},"k":["添麻烦","订单号","我这边","登记","补发"]}', 'bot/data/sample/private-service.json:11');
INSERT INTO public.message VALUES ('xh-dm-service-0004', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-26 00:39:57+00', 'text', '订单号在哪里看啊？我不太会弄', '{"n":["question"],"k":["订单号"]}', 'bot/data/sample/private-service.json:12');
INSERT INTO public.message VALUES ('xh-dm-service-0005', 'chatlab:wechat:private:dab093c29bad', 9, '2026-10-26 00:42:32+00', 'text', '在小程序「我的-订单」里面，或者您告诉我收货手机号后四位也行', '{"k":["小程序","订单","里面","告诉","收货","手机号"]}', 'bot/data/sample/private-service.json:13');
INSERT INTO public.message VALUES ('xh-dm-service-0006', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-26 00:44:13+00', 'text', '尾号5918', '{"k":["尾号"]}', 'bot/data/sample/private-service.json:14');
INSERT INTO public.message VALUES ('xh-dm-service-0007', 'chatlab:wechat:private:dab093c29bad', 9, '2026-10-26 00:48:13+00', 'text', '查到了，已经给您安排补发，明天发出，破损的那瓶不用寄回', '{"n":["complaint"],"m":{"service":1.0},"k":["查到","安排","补发","发出","寄回"]}', 'bot/data/sample/private-service.json:15');
INSERT INTO public.message VALUES ('xh-dm-service-0008', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-26 00:50:08+00', 'text', '好的好的，谢谢你们，售后真不错', '{"m":{"service":1.0},"k":["谢谢你们","售后","真不错"]}', 'bot/data/sample/private-service.json:16');
INSERT INTO public.message VALUES ('xh-dm-service-0009', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-28 00:51:53+00', 'text', '补发的维生素D滴剂收到了，这次包装很结实👍', '{"i":{"health":1.0},"m":{"service":1.0},"k":["补发","维生素","滴剂","包装","结实"]}', 'bot/data/sample/private-service.json:17');
INSERT INTO public.message VALUES ('xh-dm-service-0010', 'chatlab:wechat:private:dab093c29bad', 9, '2026-10-28 00:55:06+00', 'text', '收到就好～以后有问题随时找我', '{}', 'bot/data/sample/private-service.json:18');
INSERT INTO public.message VALUES ('xh-dm-service-0011', 'chatlab:wechat:private:dab093c29bad', 39, '2026-10-28 00:57:27+00', 'sticker', NULL, '{}', 'bot/data/sample/private-service.json:19');


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('schema_version', '1');


--
-- Data for Name: notify_log; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: orders; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.orders VALUES ('XH2609220002', 28, '2026-09-22 07:42:16+00', 76.8, '食品生鲜', true, 'bot/data/sample/orders.csv:3');
INSERT INTO public.orders VALUES ('XH2609250006', 20, '2026-09-25 06:08:18+00', 138, '母婴用品', false, 'bot/data/sample/orders.csv:7');
INSERT INTO public.orders VALUES ('XH2609270007', 20, '2026-09-27 14:45:05+00', 29.9, '母婴用品', false, 'bot/data/sample/orders.csv:8');
INSERT INTO public.orders VALUES ('XH2609300011', 11, '2026-09-30 11:10:34+00', 36.9, '母婴用品', true, 'bot/data/sample/orders.csv:12');
INSERT INTO public.orders VALUES ('XH2610030012', 27, '2026-10-02 20:12:32+00', 89.8, '宠物用品', true, 'bot/data/sample/orders.csv:13');
INSERT INTO public.orders VALUES ('XH2610030014', 33, '2026-10-03 13:33:03+00', 26.9, '数码配件', true, 'bot/data/sample/orders.csv:15');
INSERT INTO public.orders VALUES ('XH2610050015', 37, '2026-10-05 08:34:04+00', 76.8, '母婴用品', true, 'bot/data/sample/orders.csv:16');
INSERT INTO public.orders VALUES ('XH2610070016', 34, '2026-10-07 11:07:14+00', 59, '汽车用品', false, 'bot/data/sample/orders.csv:17');
INSERT INTO public.orders VALUES ('XH2610110017', 37, '2026-10-11 06:09:07+00', 109.8, '食品生鲜', true, 'bot/data/sample/orders.csv:18');
INSERT INTO public.orders VALUES ('XH2610140020', 34, '2026-10-14 13:13:03+00', 106, '母婴用品', true, 'bot/data/sample/orders.csv:21');
INSERT INTO public.orders VALUES ('XH2610160022', 39, '2026-10-16 12:27:46+00', 139.7, '营养保健', true, 'bot/data/sample/orders.csv:23');
INSERT INTO public.orders VALUES ('XH2610160023', 36, '2026-10-16 12:41:41+00', 46.9, '营养保健', true, 'bot/data/sample/orders.csv:24');
INSERT INTO public.orders VALUES ('XH2610170024', 24, '2026-10-17 11:43:59+00', 89.8, '食品生鲜', true, 'bot/data/sample/orders.csv:25');
INSERT INTO public.orders VALUES ('XH2610180025', 36, '2026-10-18 12:48:59+00', 95, '数码配件', true, 'bot/data/sample/orders.csv:26');
INSERT INTO public.orders VALUES ('XH2610190026', 24, '2026-10-19 12:57:42+00', 56.8, '个护美妆', true, 'bot/data/sample/orders.csv:27');
INSERT INTO public.orders VALUES ('XH2610200027', 39, '2026-10-20 08:55:12+00', 15.9, '母婴用品', false, 'bot/data/sample/orders.csv:28');
INSERT INTO public.orders VALUES ('XH2610210028', 38, '2026-10-21 14:02:43+00', 297, '母婴用品', false, 'bot/data/sample/orders.csv:29');
INSERT INTO public.orders VALUES ('XH2610230029', 34, '2026-10-22 16:24:41+00', 138, '母婴用品', false, 'bot/data/sample/orders.csv:30');
INSERT INTO public.orders VALUES ('XH2610230030', 39, '2026-10-22 22:34:55+00', 196, '营养保健', false, 'bot/data/sample/orders.csv:31');
INSERT INTO public.orders VALUES ('XH2610260035', 37, '2026-10-26 15:15:35+00', 109.7, '母婴用品', true, 'bot/data/sample/orders.csv:36');
INSERT INTO public.orders VALUES ('XH2610290036', 38, '2026-10-29 06:41:30+00', 238, '营养保健', false, 'bot/data/sample/orders.csv:37');
INSERT INTO public.orders VALUES ('XH2611040039', 35, '2026-11-03 17:48:26+00', 367, '数码配件', true, 'bot/data/sample/orders.csv:40');
INSERT INTO public.orders VALUES ('XH2611040040', 37, '2026-11-04 12:17:24+00', 168, '母婴用品', true, 'bot/data/sample/orders.csv:41');
INSERT INTO public.orders VALUES ('XH2611040041', 12, '2026-11-04 12:52:32+00', 42, '母婴用品', true, 'bot/data/sample/orders.csv:42');
INSERT INTO public.orders VALUES ('XH2611070044', 38, '2026-11-07 12:29:12+00', 128, '母婴用品', true, 'bot/data/sample/orders.csv:45');
INSERT INTO public.orders VALUES ('XH2611080045', 38, '2026-11-08 07:31:01+00', 476, '营养保健', false, 'bot/data/sample/orders.csv:46');
INSERT INTO public.orders VALUES ('XH2611100047', 14, '2026-11-10 11:19:52+00', 26.9, '母婴用品', true, 'bot/data/sample/orders.csv:48');
INSERT INTO public.orders VALUES ('XH2611160052', 18, '2026-11-16 08:53:55+00', 89, '母婴用品', false, 'bot/data/sample/orders.csv:53');


--
-- Data for Name: segment_run; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.segment_run VALUES (1, '2026-11-10 04:00:00+00', '2026-12-07 10:18:44.469056+00', '{"new_days":14,"declining_days":30,"goal":"repurchase","timezone":"Asia/Shanghai","recent_days":30,"high_quantile":0.8,"high_min_orders":2,"high_recency_days":180,"engaged_messages":8,"engaged_events":5,"motivation_min_score":0.3,"motivation_min_evidence":2,"coupon_weight":0.6,"coupon_min_orders":2,"coupon_min_share":0.5,"core_messages":8,"k_min":2,"k_max":8,"seed":42,"min_profiled":6,"min_circle_size":3,"min_silhouette":0.05,"k_tolerance":0.05,"keyword_weight":0.5,"max_keywords":300,"min_jaccard":0.2,"select_sample":10000,"silhouette_sample":3000,"minibatch_threshold":50000,"min_support":0.05,"min_count":3,"min_lift":1.0,"interest_min_score":0.2,"min_contrast_buyers":3,"min_contrast_ratio":1.1,"max_rules":10,"max_contrasts":5,"importance_top":5,"importance_sample":10000,"quotes_per_card":3,"card_sample":2000}', '{"version":2,"as_of":"2026-11-10T12:00:00+08:00","goal":"repurchase","goal_label":"促进复购","counts":{"value":{"high":2,"growth":12,"general":25},"lifecycle":{"potential":19,"new":2,"mature":9,"declining":9},"motivation":{"price":4,"quality":1,"service":1,"none":33},"layer":{"core":8,"ordinary":31}},"labels":{"value":{"high":"高价值","growth":"成长型","general":"一般用户"},"lifecycle":{"potential":"潜在用户","new":"新用户","mature":"成熟用户","declining":"衰退用户"},"motivation":{"price":"价格敏感型","quality":"品质追求型","service":"服务依赖型","none":"动机不明"},"layer":{"core":"核心成员","ordinary":"普通成员"},"cluster":{"c1":"母婴育儿·纸尿裤·售后","c2":"数码·小禾·平板"}},"clusters":[{"code":"c1","label":"母婴育儿·纸尿裤·售后","size":6,"top_interests":["parenting","health"],"top_interest_labels":["母婴育儿","健康养生"],"keywords":["纸尿裤","售后"]},{"code":"c2","label":"数码·小禾·平板","size":5,"top_interests":["digital","games","parenting"],"top_interest_labels":["数码","游戏","母婴育儿"],"keywords":["小禾","平板","性价比"]}],"clustering":{"method":"kmeans","k":2,"silhouette":0.1763,"tried":{"2":0.1763},"profiled":11,"features":{"interests":9,"keywords":10},"unclustered":28},"cards":[{"segment":{"dimension":"value","code":"high","label":"高价值"},"size":2,"share":0.0513,"lead":true,"name":"爱回购的准妈妈 · 朱婉清","role":"爱回购的准妈妈","persona_name":"朱婉清","focus":[{"code":"repeat_rate","label":"复购率","value":1.0},{"code":"aov","label":"客单价(元)","value":200.41},{"code":"coupon_share","label":"用券订单占比","value":0.62},{"code":"days_since_order","label":"距上次下单(中位天数)","value":3.8},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":null,"life_stage":{"code":"expecting","label":"孕期/备孕","share":0.5,"known":2},"gender":null,"occupation":null},"interests":[{"code":"parenting","label":"母婴育儿","share":0.5}],"needs":[{"word":"DHA","members":1},{"word":"优惠券","members":1},{"word":"会员日","members":1},{"word":"到时候","members":1},{"word":"在意","members":1}],"pain_points":[{"word":"太贵","members":1},{"word":"活动","members":1}],"quotes":[{"id":"xh-dm-quality-0003","text":"能发一下成分表和检测报告吗？我比较在意这个","intent":"question","intent_label":"提问","member_id":"wxid_rrlsfi3z6ssn6l","chat":"准妈妈Vivian","ts":"2026-10-29T14:15:42+08:00"},{"id":"xh-dm-price-0001","text":"在吗？纸尿裤有没有优惠券呀？","intent":"question","intent_label":"提问","member_id":"wxid_2sy9otif7hdkvk","chat":"小确幸","ts":"2026-10-28T21:20:44+08:00"},{"id":"xh-dm-quality-0001","text":"你好，想问一下孕妇DHA是藻油的还是鱼油的？","intent":"question","intent_label":"提问","member_id":"wxid_rrlsfi3z6ssn6l","chat":"准妈妈Vivian","ts":"2026-10-29T14:12:38+08:00"}],"goals":["花更少的钱买到划算的好东西","在「母婴育儿」上得到实用建议和好物推荐","稳定买到合适的母婴用品"],"motivation":{"code":"price","label":"价格敏感型","share":0.5,"counts":{"price":1,"quality":1,"service":0}},"channels":{"join":[],"chats":[{"name":"准妈妈Vivian","members":1},{"name":"小确幸","members":1}],"content":[],"content_events":[]},"scene":{"active_time":"daytime","active_time_label":"白天活跃","chats":["准妈妈Vivian","小确幸"],"categories":[{"category":"母婴用品","buyers":2},{"category":"营养保健","buyers":1},{"category":"食品生鲜","buyers":1}],"aov":200.41,"buyers":2,"text":"白天常在「准妈妈Vivian」里聊母婴育儿；常买母婴用品、营养保健，客单价约 200 元"},"example_members":["wxid_2sy9otif7hdkvk","wxid_rrlsfi3z6ssn6l"]},{"segment":{"dimension":"value","code":"growth","label":"成长型"},"size":12,"share":0.3077,"lead":true,"name":"渐入佳境的宝妈 · 顾梓萱","role":"渐入佳境的宝妈","persona_name":"顾梓萱","focus":[{"code":"repeat_rate","label":"复购率","value":0.45},{"code":"aov","label":"客单价(元)","value":97.24},{"code":"coupon_share","label":"用券订单占比","value":0.67},{"code":"days_since_order","label":"距上次下单(中位天数)","value":22.6},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":{"code":"广州","label":"广州","share":0.5,"known":2},"life_stage":{"code":"parent","label":"有娃家庭","share":1.0,"known":1},"gender":null,"occupation":null},"interests":[{"code":"digital","label":"数码","share":0.33},{"code":"games","label":"游戏","share":0.17},{"code":"parenting","label":"母婴育儿","share":0.17}],"needs":[{"word":"平板","members":2},{"word":"支架","members":2},{"word":"上海","members":1},{"word":"优先","members":1},{"word":"优惠券","members":1}],"pain_points":[{"word":"做工","members":1},{"word":"发出","members":1},{"word":"安排","members":1},{"word":"小禾","members":1},{"word":"感受","members":1}],"quotes":[{"id":"xh-digital-0039","text":"发什么快递？上海几天能到？","intent":"question","intent_label":"提问","member_id":"wxid_pszedl6sbdzju0","chat":"小禾优选·数码好物群","ts":"2026-11-06T20:32:19+08:00"},{"id":"xh-digital-0020","text":"平板支架还有吗？我想再买四个","intent":"question","intent_label":"提问","member_id":"wxid_vl5i5vf5gpuidf","chat":"小禾优选·数码好物群","ts":"2026-10-18T20:08:24+08:00"},{"id":"xh-digital-0006","text":"有平板支架的优惠券吗？","intent":"question","intent_label":"提问","member_id":"wxid_92q7wc1kjlalmt","chat":"小禾优选·数码好物群","ts":"2026-10-10T09:25:01+08:00"}],"goals":["花更少的钱买到划算的好东西","在「数码」上得到实用建议和好物推荐","稳定买到合适的母婴用品"],"motivation":{"code":"price","label":"价格敏感型","share":0.17,"counts":{"price":2,"quality":0,"service":1}},"channels":{"join":[{"name":"邀请:小禾助手","members":2}],"chats":[{"name":"小禾优选·数码好物群","members":4},{"name":"小禾优选·新人群","members":3},{"name":"小确幸","members":1}],"content":[{"code":"image","label":"图片","members":4},{"code":"link","label":"分享链接","members":1},{"code":"mini_program","label":"小程序","members":1}],"content_events":[]},"scene":{"active_time":"evening","active_time_label":"晚间活跃","chats":["小禾优选·数码好物群","小禾优选·新人群"],"categories":[{"category":"母婴用品","buyers":5},{"category":"数码配件","buyers":3},{"category":"营养保健","buyers":2}],"aov":97.24,"buyers":11,"text":"晚上常在「小禾优选·数码好物群」里聊数码、游戏；常买母婴用品、数码配件，客单价约 97 元"},"example_members":["wxid_5vxnh8gsibo5yx","wxid_92q7wc1kjlalmt","wxid_7rek8o4f25xm4z"]},{"segment":{"dimension":"lifecycle","code":"mature","label":"成熟用户"},"size":9,"share":0.2308,"lead":true,"name":"常驻群里的宝妈 · 顾安然","role":"常驻群里的宝妈","persona_name":"顾安然","focus":[{"code":"repeat_rate","label":"复购率","value":0.86},{"code":"aov","label":"客单价(元)","value":138.06},{"code":"coupon_share","label":"用券订单占比","value":0.63},{"code":"days_since_order","label":"距上次下单(中位天数)","value":18.5},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":{"code":"广州","label":"广州","share":0.5,"known":2},"life_stage":{"code":"parent","label":"有娃家庭","share":0.5,"known":4},"gender":null,"occupation":null},"interests":[{"code":"digital","label":"数码","share":0.56},{"code":"games","label":"游戏","share":0.33},{"code":"parenting","label":"母婴育儿","share":0.33}],"needs":[{"word":"优惠券","members":3},{"word":"平板","members":2},{"word":"性价比","members":2},{"word":"支架","members":2},{"word":"耳机","members":2}],"pain_points":[{"word":"做工","members":1},{"word":"发出","members":1},{"word":"太贵","members":1},{"word":"安排","members":1},{"word":"小禾","members":1}],"quotes":[{"id":"xh-digital-0041","text":"降噪耳机哪款性价比高？","intent":"question","intent_label":"提问","member_id":"wxid_92q7wc1kjlalmt","chat":"小禾优选·数码好物群","ts":"2026-11-08T13:37:50+08:00"},{"id":"xh-digital-0028","text":"有游戏手柄的优惠券吗？","intent":"question","intent_label":"提问","member_id":"wxid_cdeces5b73k3pm","chat":"小禾优选·数码好物群","ts":"2026-10-31T03:43:52+08:00"},{"id":"xh-dm-price-0001","text":"在吗？纸尿裤有没有优惠券呀？","intent":"question","intent_label":"提问","member_id":"wxid_2sy9otif7hdkvk","chat":"小确幸","ts":"2026-10-28T21:20:44+08:00"}],"goals":["花更少的钱买到划算的好东西","在「数码」上得到实用建议和好物推荐","稳定买到合适的母婴用品"],"motivation":{"code":"price","label":"价格敏感型","share":0.44,"counts":{"price":4,"quality":1,"service":1}},"channels":{"join":[{"name":"邀请:小禾助手","members":1}],"chats":[{"name":"小禾优选·数码好物群","members":5},{"name":"小确幸","members":2},{"name":"小禾优选·新人群","members":2}],"content":[{"code":"image","label":"图片","members":4},{"code":"link","label":"分享链接","members":1},{"code":"mini_program","label":"小程序","members":1}],"content_events":[]},"scene":{"active_time":"evening","active_time_label":"晚间活跃","chats":["小禾优选·数码好物群","小确幸"],"categories":[{"category":"母婴用品","buyers":4},{"category":"营养保健","buyers":3},{"category":"食品生鲜","buyers":3}],"aov":138.06,"buyers":7,"text":"晚上常在「小禾优选·数码好物群」里聊数码、游戏；常买母婴用品、营养保健，客单价约 138 元"},"example_members":["wxid_5vxnh8gsibo5yx","wxid_92q7wc1kjlalmt","wxid_7rek8o4f25xm4z"]},{"segment":{"dimension":"value","code":"general","label":"一般用户"},"size":25,"share":0.641,"lead":false,"name":"随便逛逛的宝妈 · 毛梓萱","role":"随便逛逛的宝妈","persona_name":"毛梓萱","focus":[{"code":"repeat_rate","label":"复购率","value":null},{"code":"aov","label":"客单价(元)","value":null},{"code":"coupon_share","label":"用券订单占比","value":null},{"code":"days_since_order","label":"距上次下单(中位天数)","value":null},{"code":"top_category","label":"常买品类","value":null}],"profile":{"age_range":null,"city":{"code":"杭州","label":"杭州","share":1.0,"known":1},"life_stage":{"code":"parent","label":"有娃家庭","share":0.75,"known":4},"gender":null,"occupation":null},"interests":[{"code":"digital","label":"数码","share":0.04},{"code":"games","label":"游戏","share":0.04}],"needs":[{"word":"优惠券","members":1},{"word":"侧漏","members":1},{"word":"售后","members":1},{"word":"奶粉","members":1},{"word":"性价比","members":1}],"pain_points":[{"word":"纸尿裤","members":2},{"word":"侧漏","members":1},{"word":"售后","members":1},{"word":"奶粉","members":1},{"word":"就要","members":1}],"quotes":[{"id":"xh-digital-0028","text":"有游戏手柄的优惠券吗？","intent":"question","intent_label":"提问","member_id":"wxid_cdeces5b73k3pm","chat":"小禾优选·数码好物群","ts":"2026-10-31T03:43:52+08:00"},{"id":"h:1cabcdfe634552912c11","text":"你好，我 3 号买的奶粉到现在还没发货，能帮忙查一下吗？","intent":"question","intent_label":"提问","member_id":"wxid_wangnvshi","chat":"王女士（奶粉售后）","ts":"2024-03-08T10:00:00+08:00"},{"id":"8821000000000000007","text":"上次买的纸尿裤有点漏，售后能换吗？","intent":"question","intent_label":"提问","member_id":"wxid_zhangli01","chat":"小禾优选·宝妈团购群（杨浦）","ts":"2023-11-20T20:15:00+08:00"}],"goals":["花更少的钱买到划算的好东西","在「数码」上得到实用建议和好物推荐"],"motivation":{"code":"price","label":"价格敏感型","share":0.04,"counts":{"price":1,"quality":0,"service":0}},"channels":{"join":[{"name":"邀请:小王","members":3},{"name":"二维码:小禾助手","members":2},{"name":"邀请:小禾助手","members":2}],"chats":[{"name":"小禾优选·宝妈团购群（杨浦）","members":4},{"name":"宝妈群","members":2},{"name":"小禾优选·数码好物群","members":1}],"content":[],"content_events":[]},"scene":{"active_time":"evening","active_time_label":"晚间活跃","chats":["小禾优选·宝妈团购群（杨浦）","宝妈群"],"categories":[],"aov":null,"buyers":0,"text":"晚上常在「小禾优选·宝妈团购群（杨浦）」里聊数码、游戏"},"example_members":["wxid_cdeces5b73k3pm","20231101888@chatroom","wechatmsg:group:d79f35034827"]},{"segment":{"dimension":"lifecycle","code":"new","label":"新用户"},"size":2,"share":0.0513,"lead":false,"name":"刚入群的群友 · 范思源","role":"刚入群的群友","persona_name":"范思源","focus":[{"code":"repeat_rate","label":"复购率","value":0.0},{"code":"aov","label":"客单价(元)","value":204.5},{"code":"coupon_share","label":"用券订单占比","value":1.0},{"code":"days_since_order","label":"距上次下单(中位天数)","value":6.0},{"code":"top_category","label":"常买品类","value":"数码配件"}],"profile":{"age_range":null,"city":null,"life_stage":null,"gender":null,"occupation":null},"interests":[],"needs":[],"pain_points":[],"quotes":[],"goals":["稳定买到合适的数码配件"],"motivation":null,"channels":{"join":[{"name":"邀请:小禾助手","members":1}],"chats":[],"content":[],"content_events":[]},"scene":{"active_time":null,"active_time_label":null,"chats":[],"categories":[{"category":"数码配件","buyers":1},{"category":"母婴用品","buyers":1}],"aov":204.5,"buyers":2,"text":"看看群消息；常买数码配件、母婴用品，客单价约 204 元"},"example_members":["wxid_cqwjrg4g5v2k4t","wxid_mi83elr2dh5193"]},{"segment":{"dimension":"lifecycle","code":"declining","label":"衰退用户"},"size":9,"share":0.2308,"lead":false,"name":"渐渐沉默的宝妈 · 周子涵","role":"渐渐沉默的宝妈","persona_name":"周子涵","focus":[{"code":"repeat_rate","label":"复购率","value":0.25},{"code":"aov","label":"客单价(元)","value":64.3},{"code":"coupon_share","label":"用券订单占比","value":0.6},{"code":"days_since_order","label":"距上次下单(中位天数)","value":39.5},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":{"code":"杭州","label":"杭州","share":1.0,"known":1},"life_stage":{"code":"parent","label":"有娃家庭","share":1.0,"known":3},"gender":null,"occupation":null},"interests":[],"needs":[{"word":"侧漏","members":1},{"word":"划算","members":1},{"word":"售后","members":1},{"word":"奶粉","members":1},{"word":"猫粮","members":1}],"pain_points":[{"word":"纸尿裤","members":2},{"word":"侧漏","members":1},{"word":"售后","members":1},{"word":"奶粉","members":1},{"word":"就要","members":1}],"quotes":[{"id":"xh-newbie-0003","text":"猫粮现在下单划算还是等双十二？","intent":"question","intent_label":"提问","member_id":"wxid_0zxg6dbrmu2t5b","chat":"小禾优选·新人群","ts":"2026-10-01T12:11:33+08:00"},{"id":"h:1cabcdfe634552912c11","text":"你好，我 3 号买的奶粉到现在还没发货，能帮忙查一下吗？","intent":"question","intent_label":"提问","member_id":"wxid_wangnvshi","chat":"王女士（奶粉售后）","ts":"2024-03-08T10:00:00+08:00"},{"id":"8821000000000000007","text":"上次买的纸尿裤有点漏，售后能换吗？","intent":"question","intent_label":"提问","member_id":"wxid_zhangli01","chat":"小禾优选·宝妈团购群（杨浦）","ts":"2023-11-20T20:15:00+08:00"}],"goals":["稳定买到合适的母婴用品"],"motivation":null,"channels":{"join":[{"name":"邀请:小王","members":1}],"chats":[{"name":"小禾优选·宝妈团购群（杨浦）","members":3},{"name":"宝妈群","members":2},{"name":"小禾优选·新人群","members":2}],"content":[],"content_events":[]},"scene":{"active_time":"morning","active_time_label":"早间活跃","chats":["小禾优选·宝妈团购群（杨浦）","宝妈群"],"categories":[{"category":"母婴用品","buyers":2},{"category":"宠物用品","buyers":1},{"category":"数码配件","buyers":1}],"aov":64.3,"buyers":4,"text":"早上常在「小禾优选·宝妈团购群（杨浦）」里看看群消息；常买母婴用品、宠物用品，客单价约 64 元"},"example_members":["wxid_80z9u02kcgowyz","wxid_0zxg6dbrmu2t5b","wxid_4k3zjsohdvj6dw"]},{"segment":{"dimension":"lifecycle","code":"potential","label":"潜在用户"},"size":19,"share":0.4872,"lead":false,"name":"还在观望的群友 · 钟清扬","role":"还在观望的群友","persona_name":"钟清扬","focus":[{"code":"repeat_rate","label":"复购率","value":null},{"code":"aov","label":"客单价(元)","value":null},{"code":"coupon_share","label":"用券订单占比","value":null},{"code":"days_since_order","label":"距上次下单(中位天数)","value":null},{"code":"top_category","label":"常买品类","value":null}],"profile":{"age_range":null,"city":null,"life_stage":null,"gender":null,"occupation":null},"interests":[],"needs":[],"pain_points":[],"quotes":[],"goals":[],"motivation":null,"channels":{"join":[{"name":"二维码:小禾助手","members":2},{"name":"邀请:小王","members":2},{"name":"邀请:小禾助手","members":2}],"chats":[{"name":"小禾优选·宝妈团购群（杨浦）","members":1}],"content":[],"content_events":[]},"scene":{"active_time":null,"active_time_label":null,"chats":["小禾优选·宝妈团购群（杨浦）"],"categories":[],"aov":null,"buyers":0,"text":"常在「小禾优选·宝妈团购群（杨浦）」里看看群消息"},"example_members":["20231101888@chatroom","wechatmsg:group:d79f35034827","wxid_1scmvg4v6qmi9k"]},{"segment":{"dimension":"motivation","code":"price","label":"价格敏感型"},"size":4,"share":0.1026,"lead":false,"name":"精打细算的宝妈 · 胡思源","role":"精打细算的宝妈","persona_name":"胡思源","focus":[{"code":"repeat_rate","label":"复购率","value":1.0},{"code":"aov","label":"客单价(元)","value":94.1},{"code":"coupon_share","label":"用券订单占比","value":1.0},{"code":"days_since_order","label":"距上次下单(中位天数)","value":21.6},{"code":"top_category","label":"常买品类","value":"食品生鲜"}],"profile":{"age_range":null,"city":{"code":"深圳","label":"深圳","share":1.0,"known":1},"life_stage":{"code":"parent","label":"有娃家庭","share":0.5,"known":2},"gender":null,"occupation":null},"interests":[{"code":"digital","label":"数码","share":0.5},{"code":"games","label":"游戏","share":0.25},{"code":"parenting","label":"母婴育儿","share":0.25}],"needs":[{"word":"优惠券","members":2},{"word":"会员日","members":1},{"word":"到时候","members":1},{"word":"平板","members":1},{"word":"性价比","members":1}],"pain_points":[{"word":"太贵","members":1},{"word":"活动","members":1}],"quotes":[{"id":"xh-digital-0028","text":"有游戏手柄的优惠券吗？","intent":"question","intent_label":"提问","member_id":"wxid_cdeces5b73k3pm","chat":"小禾优选·数码好物群","ts":"2026-10-31T03:43:52+08:00"},{"id":"xh-dm-price-0001","text":"在吗？纸尿裤有没有优惠券呀？","intent":"question","intent_label":"提问","member_id":"wxid_2sy9otif7hdkvk","chat":"小确幸","ts":"2026-10-28T21:20:44+08:00"},{"id":"xh-digital-0020","text":"平板支架还有吗？我想再买四个","intent":"question","intent_label":"提问","member_id":"wxid_vl5i5vf5gpuidf","chat":"小禾优选·数码好物群","ts":"2026-10-18T20:08:24+08:00"}],"goals":["花更少的钱买到划算的好东西","在「数码」上得到实用建议和好物推荐","稳定买到合适的食品生鲜"],"motivation":{"code":"price","label":"价格敏感型","share":1.0,"counts":{"price":4,"quality":0,"service":0}},"channels":{"join":[{"name":"邀请:小禾助手","members":1}],"chats":[{"name":"小禾优选·数码好物群","members":2},{"name":"小确幸","members":1},{"name":"小禾优选·新人群","members":1}],"content":[{"code":"image","label":"图片","members":1}],"content_events":[]},"scene":{"active_time":"evening","active_time_label":"晚间活跃","chats":["小禾优选·数码好物群","小确幸"],"categories":[{"category":"食品生鲜","buyers":2},{"category":"个护美妆","buyers":1},{"category":"数码配件","buyers":1}],"aov":94.1,"buyers":3,"text":"晚上常在「小禾优选·数码好物群」里聊数码、游戏；常买食品生鲜、个护美妆，客单价约 94 元"},"example_members":["wxid_2sy9otif7hdkvk","wxid_vl5i5vf5gpuidf","wxid_cdeces5b73k3pm"]},{"segment":{"dimension":"motivation","code":"quality","label":"品质追求型"},"size":1,"share":0.0256,"lead":false,"name":"讲究品质的准妈妈 · 苏婉清","role":"讲究品质的准妈妈","persona_name":"苏婉清","focus":[{"code":"repeat_rate","label":"复购率","value":1.0},{"code":"aov","label":"客单价(元)","value":284.75},{"code":"coupon_share","label":"用券订单占比","value":0.25},{"code":"days_since_order","label":"距上次下单(中位天数)","value":1.9},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":null,"life_stage":{"code":"expecting","label":"孕期/备孕","share":1.0,"known":1},"gender":null,"occupation":null},"interests":[],"needs":[{"word":"DHA","members":1},{"word":"在意","members":1},{"word":"孕妇","members":1},{"word":"成分","members":1},{"word":"成分表","members":1}],"pain_points":[],"quotes":[{"id":"xh-dm-quality-0003","text":"能发一下成分表和检测报告吗？我比较在意这个","intent":"question","intent_label":"提问","member_id":"wxid_rrlsfi3z6ssn6l","chat":"准妈妈Vivian","ts":"2026-10-29T14:15:42+08:00"},{"id":"xh-dm-quality-0001","text":"你好，想问一下孕妇DHA是藻油的还是鱼油的？","intent":"question","intent_label":"提问","member_id":"wxid_rrlsfi3z6ssn6l","chat":"准妈妈Vivian","ts":"2026-10-29T14:12:38+08:00"},{"id":"xh-dm-quality-0009","text":"孕妇DHA吃完了，感觉不错，再来两盒","intent":"praise","intent_label":"好评","member_id":"wxid_rrlsfi3z6ssn6l","chat":"准妈妈Vivian","ts":"2026-11-08T14:30:23+08:00"}],"goals":["买到靠谱、品质过硬的东西","稳定买到合适的母婴用品"],"motivation":{"code":"quality","label":"品质追求型","share":1.0,"counts":{"price":0,"quality":1,"service":0}},"channels":{"join":[],"chats":[{"name":"准妈妈Vivian","members":1}],"content":[],"content_events":[]},"scene":{"active_time":"daytime","active_time_label":"白天活跃","chats":["准妈妈Vivian"],"categories":[{"category":"母婴用品","buyers":1},{"category":"营养保健","buyers":1}],"aov":284.75,"buyers":1,"text":"白天常在「准妈妈Vivian」里看看群消息；常买母婴用品、营养保健，客单价约 285 元"},"example_members":["wxid_rrlsfi3z6ssn6l"]},{"segment":{"dimension":"motivation","code":"service","label":"服务依赖型"},"size":1,"share":0.0256,"lead":false,"name":"看重服务的养生派 · 袁安然","role":"看重服务的养生派","persona_name":"袁安然","focus":[{"code":"repeat_rate","label":"复购率","value":1.0},{"code":"aov","label":"客单价(元)","value":117.2},{"code":"coupon_share","label":"用券订单占比","value":0.33},{"code":"days_since_order","label":"距上次下单(中位天数)","value":18.2},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":null,"life_stage":null,"gender":null,"occupation":null},"interests":[{"code":"health","label":"健康养生","share":1.0}],"needs":[{"word":"订单号","members":1}],"pain_points":[{"word":"小禾","members":1},{"word":"滴剂","members":1},{"word":"维生素","members":1}],"quotes":[{"id":"xh-dm-service-0004","text":"订单号在哪里看啊？我不太会弄","intent":"question","intent_label":"提问","member_id":"wxid_7rek8o4f25xm4z","chat":"李奶奶","ts":"2026-10-26T08:39:57+08:00"},{"id":"xh-dm-service-0001","text":"小禾你好，我前天买的维生素D滴剂收到了，有一瓶破损了","intent":"complaint","intent_label":"抱怨投诉","member_id":"wxid_7rek8o4f25xm4z","chat":"李奶奶","ts":"2026-10-26T08:37:22+08:00"}],"goals":["有问题能及时找到人、售后省心","在「健康养生」上得到实用建议和好物推荐","稳定买到合适的母婴用品"],"motivation":{"code":"service","label":"服务依赖型","share":1.0,"counts":{"price":0,"quality":0,"service":1}},"channels":{"join":[],"chats":[{"name":"李奶奶","members":1}],"content":[{"code":"image","label":"图片","members":1}],"content_events":[]},"scene":{"active_time":"morning","active_time_label":"早间活跃","chats":["李奶奶"],"categories":[{"category":"母婴用品","buyers":1},{"category":"营养保健","buyers":1}],"aov":117.2,"buyers":1,"text":"早上常在「李奶奶」里聊健康养生；常买母婴用品、营养保健，客单价约 117 元"},"example_members":["wxid_7rek8o4f25xm4z"]},{"segment":{"dimension":"cluster","code":"c1","label":"母婴育儿·纸尿裤·售后"},"size":6,"share":0.1538,"lead":false,"name":"精打细算的宝妈 · 钱一诺","role":"精打细算的宝妈","persona_name":"钱一诺","focus":[{"code":"repeat_rate","label":"复购率","value":0.75},{"code":"aov","label":"客单价(元)","value":105.23},{"code":"coupon_share","label":"用券订单占比","value":0.8},{"code":"days_since_order","label":"距上次下单(中位天数)","value":19.9},{"code":"top_category","label":"常买品类","value":"母婴用品"}],"profile":{"age_range":null,"city":null,"life_stage":{"code":"parent","label":"有娃家庭","share":1.0,"known":3},"gender":null,"occupation":null},"interests":[{"code":"health","label":"健康养生","share":0.17},{"code":"parenting","label":"母婴育儿","share":0.17},{"code":"travel","label":"旅行","share":0.17}],"needs":[{"word":"纸尿裤","members":2},{"word":"优惠券","members":1},{"word":"会员日","members":1},{"word":"侧漏","members":1},{"word":"划算","members":1}],"pain_points":[{"word":"纸尿裤","members":2},{"word":"侧漏","members":1},{"word":"售后","members":1},{"word":"太贵","members":1},{"word":"奶粉","members":1}],"quotes":[{"id":"xh-dm-price-0001","text":"在吗？纸尿裤有没有优惠券呀？","intent":"question","intent_label":"提问","member_id":"wxid_2sy9otif7hdkvk","chat":"小确幸","ts":"2026-10-28T21:20:44+08:00"},{"id":"xh-newbie-0003","text":"猫粮现在下单划算还是等双十二？","intent":"question","intent_label":"提问","member_id":"wxid_0zxg6dbrmu2t5b","chat":"小禾优选·新人群","ts":"2026-10-01T12:11:33+08:00"},{"id":"h:1cabcdfe634552912c11","text":"你好，我 3 号买的奶粉到现在还没发货，能帮忙查一下吗？","intent":"question","intent_label":"提问","member_id":"wxid_wangnvshi","chat":"王女士（奶粉售后）","ts":"2024-03-08T10:00:00+08:00"}],"goals":["花更少的钱买到划算的好东西","在「健康养生」上得到实用建议和好物推荐","稳定买到合适的母婴用品"],"motivation":{"code":"price","label":"价格敏感型","share":0.33,"counts":{"price":2,"quality":0,"service":1}},"channels":{"join":[{"name":"邀请:小禾助手","members":1}],"chats":[{"name":"小禾优选·新人群","members":2},{"name":"宝妈群","members":1},{"name":"小确幸","members":1}],"content":[{"code":"image","label":"图片","members":1}],"content_events":[]},"scene":{"active_time":"morning","active_time_label":"早间活跃","chats":["小禾优选·新人群","宝妈群"],"categories":[{"category":"母婴用品","buyers":2},{"category":"食品生鲜","buyers":2},{"category":"个护美妆","buyers":1}],"aov":105.23,"buyers":4,"text":"早上常在「小禾优选·新人群」里聊健康养生、母婴育儿；常买母婴用品、食品生鲜，客单价约 105 元"},"example_members":["wxid_7rek8o4f25xm4z","wxid_2sy9otif7hdkvk","wxid_xakjpgp8xg0735"]},{"segment":{"dimension":"cluster","code":"c2","label":"数码·小禾·平板"},"size":5,"share":0.1282,"lead":false,"name":"精打细算的宝妈 · 姚子涵","role":"精打细算的宝妈","persona_name":"姚子涵","focus":[{"code":"repeat_rate","label":"复购率","value":0.67},{"code":"aov","label":"客单价(元)","value":86.95},{"code":"coupon_share","label":"用券订单占比","value":0.67},{"code":"days_since_order","label":"距上次下单(中位天数)","value":22.6},{"code":"top_category","label":"常买品类","value":"数码配件"}],"profile":{"age_range":null,"city":{"code":"广州","label":"广州","share":0.5,"known":2},"life_stage":{"code":"parent","label":"有娃家庭","share":0.5,"known":2},"gender":null,"occupation":null},"interests":[{"code":"digital","label":"数码","share":1.0},{"code":"games","label":"游戏","share":0.6},{"code":"parenting","label":"母婴育儿","share":0.4}],"needs":[{"word":"优惠券","members":2},{"word":"平板","members":2},{"word":"性价比","members":2},{"word":"支架","members":2},{"word":"耳机","members":2}],"pain_points":[{"word":"做工","members":1},{"word":"发出","members":1},{"word":"安排","members":1},{"word":"感受","members":1},{"word":"数据线","members":1}],"quotes":[{"id":"xh-digital-0041","text":"降噪耳机哪款性价比高？","intent":"question","intent_label":"提问","member_id":"wxid_92q7wc1kjlalmt","chat":"小禾优选·数码好物群","ts":"2026-11-08T13:37:50+08:00"},{"id":"xh-digital-0028","text":"有游戏手柄的优惠券吗？","intent":"question","intent_label":"提问","member_id":"wxid_cdeces5b73k3pm","chat":"小禾优选·数码好物群","ts":"2026-10-31T03:43:52+08:00"},{"id":"xh-digital-0020","text":"平板支架还有吗？我想再买四个","intent":"question","intent_label":"提问","member_id":"wxid_vl5i5vf5gpuidf","chat":"小禾优选·数码好物群","ts":"2026-10-18T20:08:24+08:00"}],"goals":["花更少的钱买到划算的好东西","在「数码」上得到实用建议和好物推荐","稳定买到合适的数码配件"],"motivation":{"code":"price","label":"价格敏感型","share":0.4,"counts":{"price":2,"quality":0,"service":0}},"channels":{"join":[],"chats":[{"name":"小禾优选·数码好物群","members":5},{"name":"小确幸","members":1},{"name":"小禾优选·新人群","members":1}],"content":[{"code":"image","label":"图片","members":3},{"code":"link","label":"分享链接","members":1},{"code":"mini_program","label":"小程序","members":1}],"content_events":[]},"scene":{"active_time":"evening","active_time_label":"晚间活跃","chats":["小禾优选·数码好物群","小确幸"],"categories":[{"category":"数码配件","buyers":1},{"category":"母婴用品","buyers":1},{"category":"汽车用品","buyers":1}],"aov":86.95,"buyers":3,"text":"晚上常在「小禾优选·数码好物群」里聊数码、游戏；常买数码配件、母婴用品，客单价约 87 元"},"example_members":["wxid_5vxnh8gsibo5yx","wxid_92q7wc1kjlalmt","wxid_vl5i5vf5gpuidf"]}],"patterns":[{"kind":"contrast","group":{"kind":"time","code":"evening","label":"晚间活跃"},"metric":"orders","metric_label":"人均订单数","group_mean":3.0,"group_buyers":3,"rest_mean":1.7,"rest_buyers":10,"ratio":1.765,"description":"晚间活跃的成员人均订单数平均 3.0 单，其余成员 1.7 单（1.8 倍；买家 3 人 vs 10 人）"},{"kind":"contrast","group":{"kind":"content","code":"image","label":"图片"},"metric":"aov","metric_label":"客单价","group_mean":88.32,"group_buyers":3,"rest_mean":122.17,"rest_buyers":10,"ratio":0.723,"description":"常在群里发图片的成员客单价平均 88.3 元，其余成员 122.2 元（0.7 倍；买家 3 人 vs 10 人）"},{"kind":"contrast","group":{"kind":"time","code":"evening","label":"晚间活跃"},"metric":"aov","metric_label":"客单价","group_mean":96.01,"group_buyers":3,"rest_mean":119.86,"rest_buyers":10,"ratio":0.801,"description":"晚间活跃的成员客单价平均 96.0 元，其余成员 119.9 元（0.8 倍；买家 3 人 vs 10 人）"}],"importance":{"value":[{"feature":"orders","label":"订单数","importance":0.182},{"feature":"aov","label":"客单价","importance":0.158},{"feature":"monetary","label":"消费金额","importance":0.117},{"feature":"days_since_active","label":"距上次活跃天数","importance":0.115},{"feature":"recent_messages","label":"近30天发言数","importance":0.09}],"cluster":[{"feature":"interest:digital","label":"兴趣:数码","importance":0.307},{"feature":"recent_messages","label":"近30天发言数","importance":0.138},{"feature":"motivation:price","label":"动机:价格敏感","importance":0.062},{"feature":"time:evening","label":"时段:晚间活跃","importance":0.062},{"feature":"aov","label":"客单价","importance":0.062}]},"changes":null,"params":{"new_days":14,"declining_days":30,"goal":"repurchase","timezone":"Asia/Shanghai","recent_days":30,"high_quantile":0.8,"high_min_orders":2,"high_recency_days":180,"engaged_messages":8,"engaged_events":5,"motivation_min_score":0.3,"motivation_min_evidence":2,"coupon_weight":0.6,"coupon_min_orders":2,"coupon_min_share":0.5,"core_messages":8,"k_min":2,"k_max":8,"seed":42,"min_profiled":6,"min_circle_size":3,"min_silhouette":0.05,"k_tolerance":0.05,"keyword_weight":0.5,"max_keywords":300,"min_jaccard":0.2,"select_sample":10000,"silhouette_sample":3000,"minibatch_threshold":50000,"min_support":0.05,"min_count":3,"min_lift":1.0,"interest_min_score":0.2,"min_contrast_buyers":3,"min_contrast_ratio":1.1,"max_rules":10,"max_contrasts":5,"importance_top":5,"importance_sample":10000,"quotes_per_card":3,"card_sample":2000},"next_cluster_code":3,"dynamic_tags":{"wxid_2sy9otif7hdkvk":[["bought:母婴用品","近30天购买 母婴用品",1796386644,["XH2611040040","XH2610260035"]],["bought:食品生鲜","近30天购买 食品生鲜",1794290947,["XH2610110017"]],["recently_asked","近期提问",1795785644,["xh-dm-price-0001"]],["recently_complained","近期抱怨",1795785775,["xh-dm-price-0003"]],["recently_intent","近期有购买意向",1796386572,["xh-dm-price-0009","xh-dm-price-0005"]]],"wxid_5vxnh8gsibo5yx":[["recently_complained","近期抱怨",1795567693,["xh-dm-service-0007"]],["recently_intent","近期有购买意向",1796729785,["xh-newbie-0014","xh-digital-0022"]]],"wxid_7rek8o4f25xm4z":[["bought:母婴用品","近30天购买 母婴用品",1795078512,["XH2610200027"]],["bought:营养保健","近30天购买 营养保健",1795300495,["XH2610230030","XH2610160022"]],["recently_asked","近期提问",1795567197,["xh-dm-service-0004"]],["recently_complained","近期抱怨",1795567042,["xh-dm-service-0001"]]],"wxid_92q7wc1kjlalmt":[["recently_asked","近期提问",1796708270,["xh-digital-0041","xh-digital-0027","xh-digital-0016","xh-digital-0006","xh-digital-0001"]]],"wxid_cdeces5b73k3pm":[["recently_asked","近期提问",1795981432,["xh-digital-0028","xh-digital-0012"]]],"wxid_cqwjrg4g5v2k4t":[["bought:数码配件","近30天购买 数码配件",1796320106,["XH2611040039"]]],"wxid_mi83elr2dh5193":[["bought:母婴用品","近30天购买 母婴用品",1796388752,["XH2611040041"]]],"wxid_pszedl6sbdzju0":[["bought:母婴用品","近30天购买 母婴用品",1795278281,["XH2610230029","XH2610140020"]],["recently_asked","近期提问",1796560339,["xh-digital-0039"]]],"wxid_rrlsfi3z6ssn6l":[["bought:母婴用品","近30天购买 母婴用品",1796646552,["XH2611070044","XH2610210028"]],["bought:营养保健","近30天购买 营养保健",1796715061,["XH2611080045","XH2610290036"]],["recently_asked","近期提问",1795846542,["xh-dm-quality-0003","xh-dm-quality-0001"]]],"wxid_vl5i5vf5gpuidf":[["bought:数码配件","近30天购买 数码配件",1794919739,["XH2610180025"]],["bought:营养保健","近30天购买 营养保健",1794746501,["XH2610160023"]],["recently_asked","近期提问",1794917304,["xh-digital-0020"]]],"wxid_xakjpgp8xg0735":[["bought:个护美妆","近30天购买 个护美妆",1795006662,["XH2610190026"]],["bought:食品生鲜","近30天购买 食品生鲜",1794829439,["XH2610170024"]],["recently_asked","近期提问",1796729081,["xh-newbie-0013"]]]}}');


--
-- Data for Name: suggest_state; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: suggestion; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.suggestion VALUES (1, 37, 'purchase_intent', 'xh-dm-price-0009', '2026-11-04 12:16:12+00', 'xh-dm-price-0009', 'chatlab:wechat:private:9e7c359c87d1', NULL, NULL, 'operator', 'demand', 'price+parenting', '小确幸，宝妈团购价我帮你申请到了！纸尿裤两件更划算，拼团链接私聊发你～', '小确幸，宝妈团购价我帮你申请到了！纸尿裤两件更划算，拼团链接私聊发你～', '["小确幸，纸尿裤很适合囤货，这周母婴专场有满减，我帮你算好最省的组合。","小确幸，纸尿裤现在下单最划算！我给你发一张专属券，叠加满减到手更便宜～"]', '["购买意向：「券领到了，已下单两包纸尿裤」 [intent=purchase_intent]","画像：价格敏感型（5 条证据） [motivation=price]","本条消息提到：母婴育儿（0.47） [interest=parenting]","成熟用户 [lifecycle=mature]","话术：购买意向 · 价格敏感型+母婴育儿 [variant=purchase_intent/price+parenting]"]', '[{"code":"intent","value":"purchase_intent","label":"购买意向：「券领到了，已下单两包纸尿裤」","evidence":["xh-dm-price-0009"]},{"code":"motivation","value":"price","label":"画像：价格敏感型（5 条证据）","evidence":["xh-dm-price-0011","XH2611040040","xh-dm-price-0009","xh-dm-price-0005","xh-dm-price-0003"]},{"code":"interest","value":"parenting","label":"本条消息提到：母婴育儿（0.47）","evidence":["xh-dm-price-0009","xh-dm-price-0001"]},{"code":"lifecycle","value":"mature","label":"成熟用户","evidence":[]},{"code":"variant","value":"purchase_intent/price+parenting","label":"话术：购买意向 · 价格敏感型+母婴育儿","evidence":[]}]', '{"value":"high","lifecycle":"mature","motivation":"price","cluster":"c1","layer":"ordinary"}', 'coupon', false, 'pending', NULL, '2026-11-20 10:08:00+00', '2026-11-20 10:08:00+00', NULL, NULL);
INSERT INTO public.suggestion VALUES (2, 39, 'question', 'xh-dm-service-0004', '2026-10-26 00:39:57+00', 'xh-dm-service-0004', 'chatlab:wechat:private:dab093c29bad', NULL, NULL, 'operator', 'demand', 'service', '李奶奶，这个交给我来搞定～我们有专属售后，后面有任何问题直接找我就行。', '李奶奶，这个交给我来搞定～我们有专属售后，后面有任何问题直接找我就行。', '["收到李奶奶的问题啦，这件事我全程帮你盯着，你不用再自己来回问了。","李奶奶，这个关系到身体，我把适用人群和注意事项发你，有特殊情况建议先问问医生哦。"]', '["提问：「订单号在哪里看啊？我不太会弄」 [intent=question]","画像：服务依赖型（2 条证据） [motivation=service]","兴趣：健康养生（0.43） [interest=health]","成熟用户 [lifecycle=mature]","话术：答疑 · 服务依赖型 [variant=question/service]"]', '[{"code":"intent","value":"question","label":"提问：「订单号在哪里看啊？我不太会弄」","evidence":["xh-dm-service-0004"]},{"code":"motivation","value":"service","label":"画像：服务依赖型（2 条证据）","evidence":["xh-dm-service-0009","xh-dm-service-0008"]},{"code":"interest","value":"health","label":"兴趣：健康养生（0.43）","evidence":["xh-dm-service-0009","xh-dm-service-0001"]},{"code":"lifecycle","value":"mature","label":"成熟用户","evidence":[]},{"code":"variant","value":"question/service","label":"话术：答疑 · 服务依赖型","evidence":[]}]', '{"value":"growth","lifecycle":"mature","motivation":"service","cluster":"c1","layer":"ordinary"}', 'private_chat', false, 'pending', NULL, '2026-11-20 10:08:00+00', '2026-11-20 10:08:00+00', NULL, NULL);
INSERT INTO public.suggestion VALUES (3, 31, 'question', 'xh-digital-0028', '2026-10-30 19:43:52+00', 'xh-digital-0028', '71147682976@chatroom', NULL, NULL, 'operator', 'demand', 'price', '懂你～买之前比比价很正常。游戏我帮你算了一下到手价，这周下单还有满减，我私聊发你哈。', '懂你～买之前比比价很正常。游戏我帮你算了一下到手价，这周下单还有满减，我私聊发你哈。', '["熬夜冠军，关于游戏给你透个底：最近的活动价是今年比较低的一档，我先帮你留一张券，需要直接用。","收到～熬夜冠军关心的游戏，我整理一份详细说明私聊发你，有不清楚的随时问我。"]', '["提问：「有游戏手柄的优惠券吗？」 [intent=question]","画像：价格敏感型（2 条证据） [motivation=price]","本条消息提到：游戏（0.27） [interest=games]","成熟用户 [lifecycle=mature]","话术：答疑 · 价格敏感型 [variant=question/price]"]', '[{"code":"intent","value":"question","label":"提问：「有游戏手柄的优惠券吗？」","evidence":["xh-digital-0028"]},{"code":"motivation","value":"price","label":"画像：价格敏感型（2 条证据）","evidence":["xh-digital-0028","xh-digital-0012"]},{"code":"interest","value":"games","label":"本条消息提到：游戏（0.27）","evidence":["xh-digital-0028"]},{"code":"lifecycle","value":"mature","label":"成熟用户","evidence":[]},{"code":"variant","value":"question/price","label":"话术：答疑 · 价格敏感型","evidence":[]}]', '{"value":"general","lifecycle":"mature","motivation":"price","cluster":"c2","layer":"ordinary"}', 'coupon', false, 'pending', NULL, '2026-11-20 10:08:00+00', '2026-11-20 10:08:00+00', NULL, NULL);


--
-- Data for Name: tag; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tag VALUES (1, 1, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (2, 1, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (3, 1, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (4, 2, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (5, 2, 'declining', 'lifecycle', '衰退用户', 1, '["h:61554205577c910633ed"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (6, 2, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (7, 2, 'morning', 'time', '早间活跃', 0.5975162441645103, '["8821000000000000002","h:fb5bedc26ffddf7998f3","h:6caed3d1dde34a17da5a"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (8, 2, 'life_stage:parent', 'attribute', '有娃家庭', 0.5034146962121195, '["h:61554205577c910633ed","8821000000000000007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (9, 2, 'evening', 'time', '晚间活跃', 0.40248375583548973, '["h:61554205577c910633ed","8821000000000000007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (10, 3, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (11, 3, 'join:invite', 'attribute', '邀请入群（小王）', 1, '["8821000000000000003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (12, 3, 'declining', 'lifecycle', '衰退用户', 1, '["h:b1f618f22c8ffa352f68"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (13, 3, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (14, 3, 'evening', 'time', '晚间活跃', 0.7519372553249574, '["h:b1f618f22c8ffa352f68","h:3c8df2aef3baf2fbec33","h:cccb4f73bf3134b354f9","h:6db248efff8d95bc2aee","h:64b41e33e223f6c2b056"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (15, 3, 'life_stage:parent', 'attribute', '有娃家庭', 0.5034146962120833, '["8821000000000000006","h:b8320a8a39dc7e6d8294"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (16, 4, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (17, 4, 'declining', 'lifecycle', '衰退用户', 1, '["h:132ca1b9f4e63723ccc0"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (18, 4, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (19, 4, 'evening', 'time', '晚间活跃', 0.502584582014499, '["h:132ca1b9f4e63723ccc0","h:50024e4963d7fe035e36","8821000000000000008"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (20, 4, 'morning', 'time', '早间活跃', 0.49741541798550093, '["8821000000000000004","h:4f190e810dc87bb25821","h:402147a80f36ad648f39"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (21, 5, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (22, 5, 'morning', 'time', '早间活跃', 1, '["h:eccb1b506132f2350291","h:8da15f68a0e8f276b32c","h:1cabcdfe634552912c11"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (23, 5, 'declining', 'lifecycle', '衰退用户', 1, '["h:eccb1b506132f2350291"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (24, 5, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (25, 5, 'life_stage:parent', 'attribute', '有娃家庭', 0.5034146962519535, '["h:eccb1b506132f2350291","h:1cabcdfe634552912c11"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (26, 6, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (27, 6, 'join:invite', 'attribute', '邀请入群（小王）', 1, '["h:23e3734d4c7391e125f0"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (28, 6, 'potential', 'lifecycle', '潜在用户', 1, '["h:23e3734d4c7391e125f0"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (29, 6, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (30, 7, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (31, 7, 'join:invite', 'attribute', '邀请入群（小王）', 1, '["h:dd69c7286329a1ce085c"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (32, 7, 'potential', 'lifecycle', '潜在用户', 1, '["h:dd69c7286329a1ce085c"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (33, 7, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (34, 8, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (35, 8, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (36, 8, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (37, 9, 'highly_active', 'frequency', '高频活跃', 1, '["xh-newbie-0033","xh-newbie-0031","xh-newbie-0027","xh-newbie-0025","xh-newbie-0022"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (38, 9, 'mature', 'lifecycle', '成熟用户', 1, '["xh-newbie-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (39, 9, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (40, 9, 'price', 'motivation', '价格敏感', 0.9664494564514021, '["xh-newbie-0031","xh-newbie-0027","xh-newbie-0022","xh-digital-0030","xh-dm-price-0002"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (41, 9, 'service', 'motivation', '服务依赖', 0.8987058915538307, '["xh-newbie-0014","xh-dm-quality-0010","xh-digital-0040","xh-digital-0037","xh-dm-service-0007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (42, 9, 'mini_program', 'content', '小程序', 0.7130261852353429, '["xh-digital-0038","xh-dm-price-0008","xh-dm-quality-0008","xh-digital-0018"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (43, 9, 'digital', 'interest', '数码', 0.6576106323706371, '["xh-digital-0037","xh-digital-0018","xh-digital-0017"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (44, 9, 'quality', 'motivation', '品质追求', 0.5957591345572895, '["xh-dm-quality-0002"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (45, 9, 'purchase_intent', 'intent', '购买意向', 0.4609135334752986, '["xh-newbie-0014","xh-digital-0022"]', '2026-12-08 11:36:25+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (46, 9, 'evening', 'time', '晚间活跃', 0.43969079828474317, '["xh-newbie-0033","xh-newbie-0027","xh-newbie-0022","xh-newbie-0018","xh-newbie-0016"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (47, 9, 'parenting', 'interest', '母婴育儿', 0.2921147191584693, '["xh-dm-price-0007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (48, 9, 'games', 'interest', '游戏', 0.2700164100365078, '["xh-digital-0030"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (49, 9, 'image', 'content', '图片', 0.26061875530534917, '["xh-dm-quality-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (50, 9, 'complaint', 'intent', '抱怨投诉', 0.2443906827927219, '["xh-dm-service-0007"]', '2026-11-25 00:48:13+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (51, 9, 'life_stage:parent', 'attribute', '有娃家庭', 0.22923854168879287, '["xh-dm-price-0007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (52, 10, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (53, 10, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (54, 10, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (62, 13, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (63, 13, 'join:invite', 'attribute', '邀请入群（米粒妈）', 1, '["xh-newbie-0017"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (64, 13, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0017"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (65, 13, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (72, 15, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (73, 15, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0026"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (74, 15, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0026"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (75, 15, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (76, 16, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0030"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (77, 16, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0035"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (78, 16, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (79, 16, 'home', 'interest', '家居', 0.3934693402873666, '["xh-newbie-0035"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (80, 16, 'occasional', 'frequency', '偶尔发言', 0.03333333333333333, '["xh-newbie-0035"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (81, 17, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (82, 17, 'declining', 'lifecycle', '衰退用户', 1, '["xh-newbie-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (83, 17, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (84, 17, 'city:杭州', 'attribute', '杭州', 0.36063053735121575, '["xh-newbie-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (91, 19, 'join:qrcode', 'attribute', '扫码入群（小禾助手）', 1, '["xh-newbie-0015"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (92, 19, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0023"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (93, 19, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (94, 19, 'question', 'intent', '提问', 0.3306251709714716, '["xh-newbie-0023"]', '2026-12-10 14:05:54+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (95, 19, 'occasional', 'frequency', '偶尔发言', 0.03333333333333333, '["xh-newbie-0023"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (99, 21, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (100, 21, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (101, 21, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (102, 22, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (103, 22, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0009"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (104, 22, 'potential', 'lifecycle', '潜在用户', 1, '["xh-newbie-0009"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (105, 22, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (106, 23, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (107, 23, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (108, 23, 'potential', 'lifecycle', '潜在用户', 1, '["xh-newbie-0007"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (109, 23, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (116, 25, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (117, 25, 'join:qrcode', 'attribute', '扫码入群（小禾助手）', 1, '["xh-newbie-0032"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (118, 25, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0032"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (119, 25, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (120, 26, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (121, 26, 'join:invite', 'attribute', '邀请入群（等待小豆芽）', 1, '["xh-newbie-0019"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (122, 26, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0019"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (123, 26, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (252, 27, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (148, 29, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (149, 29, 'join:qrcode', 'attribute', '扫码入群（小禾助手）', 1, '["xh-digital-0025"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (150, 29, 'potential', 'lifecycle', '潜在用户', 1, '["xh-digital-0025"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (151, 29, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (152, 30, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (153, 30, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (154, 30, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (155, 31, 'mature', 'lifecycle', '成熟用户', 1, '["xh-digital-0012"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (156, 31, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (157, 31, 'evening', 'time', '晚间活跃', 0.5735348987491681, '["xh-digital-0015","xh-digital-0012"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (158, 31, 'late_night', 'time', '深夜活跃', 0.42646510125083187, '["xh-digital-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (159, 31, 'question', 'intent', '提问', 0.4017363859012755, '["xh-digital-0028","xh-digital-0012"]', '2026-11-29 19:43:52+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (160, 31, 'price', 'motivation', '价格敏感', 0.4017363859012755, '["xh-digital-0028","xh-digital-0012"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (161, 31, 'life_stage:student', 'attribute', '学生', 0.3959982572088424, '["xh-digital-0015"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (162, 31, 'games', 'interest', '游戏', 0.26876190147223245, '["xh-digital-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (163, 31, 'digital', 'interest', '数码', 0.18184840846882322, '["xh-digital-0012"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (164, 31, 'occasional', 'frequency', '偶尔发言', 0.03333333333333333, '["xh-digital-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (165, 32, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (166, 32, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (167, 32, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (253, 27, 'declining', 'lifecycle', '衰退用户', 1, '["xh-newbie-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (217, 11, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (218, 11, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (219, 11, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (220, 11, 'price', 'motivation', '价格敏感', 0.14377696422141883, '["XH2609300011"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (221, 12, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (222, 12, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0011"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (223, 12, 'potential', 'lifecycle', '潜在用户', 1, '["xh-newbie-0011"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (224, 12, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (225, 12, 'bought:母婴用品', 'value', '近30天购买 母婴用品', 0.502457882270771, '["XH2611040041"]', '2026-12-04 12:52:32+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (226, 12, 'price', 'motivation', '价格敏感', 0.29463334518193385, '["XH2611040041"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (227, 14, 'join:invite', 'attribute', '邀请入群（米粒妈）', 1, '["xh-newbie-0021"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (228, 14, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (229, 14, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (230, 14, 'bought:母婴用品', 'value', '近30天购买 母婴用品', 0.5509793048625968, '["XH2611100047"]', '2026-12-10 11:19:52+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (231, 14, 'life_stage:parent', 'attribute', '有娃家庭', 0.4778241005095982, '["xh-newbie-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (232, 14, 'parenting', 'interest', '母婴育儿', 0.34832896621782206, '["xh-newbie-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (233, 14, 'price', 'motivation', '价格敏感', 0.3299099350554411, '["XH2611100047"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (234, 14, 'occasional', 'frequency', '偶尔发言', 0.03333333333333333, '["xh-newbie-0028"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (235, 18, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0024"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (236, 18, 'new', 'lifecycle', '新用户', 1, '["xh-newbie-0029"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (237, 18, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (238, 18, 'bought:母婴用品', 'value', '近30天购买 母婴用品', 0.6005216518339267, '["XH2611160052"]', '2026-12-16 08:53:55+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (239, 18, 'city:深圳', 'attribute', '深圳', 0.4823618258123933, '["xh-newbie-0029"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (240, 18, 'question', 'intent', '提问', 0.3564039365359424, '["xh-newbie-0029"]', '2026-12-14 15:03:23+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (241, 18, 'occasional', 'frequency', '偶尔发言', 0.03333333333333333, '["xh-newbie-0029"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (242, 20, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (243, 20, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (244, 20, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (245, 24, 'join:invite', 'attribute', '邀请入群（小禾助手）', 1, '["xh-newbie-0005"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (246, 24, 'mature', 'lifecycle', '成熟用户', 1, '["xh-newbie-0013"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (247, 24, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (248, 24, 'price', 'motivation', '价格敏感', 0.3757569458165001, '["XH2610190026","XH2610170024"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (249, 24, 'travel', 'interest', '旅行', 0.317705461512236, '["xh-newbie-0013"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (250, 24, 'question', 'intent', '提问', 0.317705461512236, '["xh-newbie-0013"]', '2026-12-08 11:24:41+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (251, 24, 'occasional', 'frequency', '偶尔发言', 0.06666666666666667, '["xh-newbie-0034","xh-newbie-0013"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (254, 27, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (255, 27, 'price', 'motivation', '价格敏感', 0.2751376978475294, '["XH2610030012","xh-newbie-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (256, 27, 'pets', 'interest', '宠物', 0.1459693285086624, '["xh-newbie-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (257, 28, 'mature', 'lifecycle', '成熟用户', 1, '["xh-digital-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (258, 28, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (259, 28, 'question', 'intent', '提问', 0.8155747476470545, '["xh-digital-0044","xh-digital-0041","xh-digital-0027","xh-digital-0016","xh-digital-0006"]', '2026-12-17 00:41:13+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (260, 28, 'digital', 'interest', '数码', 0.6983557420536735, '["xh-digital-0044","xh-digital-0041","xh-digital-0006","xh-digital-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (261, 28, 'service', 'motivation', '服务依赖', 0.6596525733387786, '["xh-digital-0043","xh-digital-0032","xh-digital-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (262, 28, 'price', 'motivation', '价格敏感', 0.5046604104415411, '["xh-digital-0041","xh-digital-0006","XH2609220002"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (263, 28, 'image', 'content', '图片', 0.46731956404320896, '["xh-digital-0031","xh-digital-0029"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (264, 28, 'games', 'interest', '游戏', 0.4645412867646437, '["xh-digital-0035","xh-digital-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (265, 28, 'praise', 'intent', '好评', 0.44924033196646795, '["xh-digital-0043","xh-digital-0004"]', '2026-12-14 07:58:16+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (266, 28, 'morning', 'time', '早间活跃', 0.4254086272542307, '["xh-digital-0044","xh-digital-0042","xh-digital-0034","xh-digital-0032","xh-digital-0029"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (267, 28, 'active', 'frequency', '活跃', 0.4, '["xh-digital-0044","xh-digital-0043","xh-digital-0042","xh-digital-0041","xh-digital-0036"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (268, 28, 'city:广州', 'attribute', '广州', 0.39049957327906115, '["xh-digital-0013"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (269, 28, 'mini_program', 'content', '小程序', 0.333530357695344, '["xh-digital-0042"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (270, 28, 'quality', 'motivation', '品质追求', 0.27206017814050676, '["xh-digital-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (271, 28, 'parenting', 'interest', '母婴育儿', 0.2517333281627765, '["xh-digital-0027"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (272, 28, 'link', 'content', '分享链接', 0.2517333281627765, '["xh-digital-0027"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (273, 28, 'auto', 'interest', '汽车', 0.2030859511302252, '["xh-digital-0016"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (274, 28, 'fitness', 'interest', '运动健身', 0.2030859511302252, '["xh-digital-0016"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (275, 28, 'health', 'interest', '健康养生', 0.15625889747806887, '["xh-digital-0005"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (276, 33, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (277, 33, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (278, 33, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (279, 33, 'price', 'motivation', '价格敏感', 0.15358554893917242, '["XH2610030014"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (280, 34, 'mature', 'lifecycle', '成熟用户', 1, '["xh-digital-0014"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (281, 34, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (282, 34, 'evening', 'time', '晚间活跃', 0.6862288492544399, '["xh-digital-0039","xh-digital-0014"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (283, 34, 'bought:母婴用品', 'value', '近30天购买 母婴用品', 0.40471877784438703, '["XH2610230029"]', '2026-11-21 16:24:41+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (284, 34, 'question', 'intent', '提问', 0.3060992929405023, '["xh-digital-0039"]', '2026-12-06 12:32:19+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (285, 34, 'service', 'motivation', '服务依赖', 0.3060992929405023, '["xh-digital-0039"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (286, 34, 'digital', 'interest', '数码', 0.2347922261506915, '["xh-digital-0024"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (287, 34, 'education', 'interest', '教育学习', 0.2347922261506915, '["xh-digital-0024"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (288, 34, 'price', 'motivation', '价格敏感', 0.1934009269617033, '["XH2610140020"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (289, 34, 'occasional', 'frequency', '偶尔发言', 0.06666666666666667, '["xh-digital-0039","xh-digital-0024"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (290, 35, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (291, 35, 'potential', 'lifecycle', '潜在用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (292, 35, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (293, 35, 'bought:数码配件', 'value', '近30天购买 数码配件', 0.4960999225623173, '["XH2611040039"]', '2026-12-03 17:48:26+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (294, 35, 'price', 'motivation', '价格敏感', 0.29014080449874946, '["XH2611040039"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (295, 36, 'silent', 'frequency', '沉默', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (296, 36, 'evening', 'time', '晚间活跃', 1, '["xh-digital-0023","xh-digital-0021","xh-digital-0020","xh-digital-0019","xh-digital-0002"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (297, 36, 'declining', 'lifecycle', '衰退用户', 1, '["xh-digital-0023"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (298, 36, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (299, 36, 'price', 'motivation', '价格敏感', 0.36911275859460024, '["XH2610180025","XH2610160023"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (300, 36, 'city:深圳', 'attribute', '深圳', 0.3603286058557854, '["xh-digital-0002"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (301, 36, 'image', 'content', '图片', 0.21410989551858617, '["xh-digital-0023"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (302, 36, 'digital', 'interest', '数码', 0.20982006154855148, '["xh-digital-0020"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (303, 37, 'evening', 'time', '晚间活跃', 1, '["xh-dm-price-0011","xh-dm-price-0009","xh-dm-price-0006","xh-dm-price-0005","xh-dm-price-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (304, 37, 'mature', 'lifecycle', '成熟用户', 1, '["xh-dm-price-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (305, 37, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (306, 37, 'price', 'motivation', '价格敏感', 0.9473302382600416, '["xh-dm-price-0011","XH2611040040","xh-dm-price-0009","xh-dm-price-0005","xh-dm-price-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (307, 37, 'bought:母婴用品', 'value', '近30天购买 母婴用品', 0.7180421642761219, '["XH2611040040","XH2610260035"]', '2026-12-04 12:17:24+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (308, 37, 'life_stage:parent', 'attribute', '有娃家庭', 0.6840332461817533, '["xh-dm-price-0009","xh-dm-price-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (309, 37, 'purchase_intent', 'intent', '购买意向', 0.475813241277353, '["xh-dm-price-0009","xh-dm-price-0005"]', '2026-12-04 12:16:12+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (310, 37, 'parenting', 'interest', '母婴育儿', 0.47580066550972355, '["xh-dm-price-0009","xh-dm-price-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (311, 37, 'praise', 'intent', '好评', 0.2945103795415597, '["xh-dm-price-0011"]', '2026-12-04 12:21:24+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (312, 37, 'complaint', 'intent', '抱怨投诉', 0.2570002344828006, '["xh-dm-price-0003"]', '2026-11-27 13:22:55+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (313, 37, 'question', 'intent', '提问', 0.2569925025404459, '["xh-dm-price-0001"]', '2026-11-27 13:20:44+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (314, 37, 'occasional', 'frequency', '偶尔发言', 0.2, '["xh-dm-price-0011","xh-dm-price-0009","xh-dm-price-0006","xh-dm-price-0005","xh-dm-price-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (315, 38, 'daytime', 'time', '白天活跃', 1, '["xh-dm-quality-0009","xh-dm-quality-0007","xh-dm-quality-0006","xh-dm-quality-0003","xh-dm-quality-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (316, 38, 'mature', 'lifecycle', '成熟用户', 1, '["xh-dm-quality-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (317, 38, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (318, 38, 'bought:营养保健', 'value', '近30天购买 营养保健', 0.7448309453613529, '["XH2611080045","XH2610290036"]', '2026-12-08 07:31:01+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (319, 38, 'bought:母婴用品', 'value', '近30天购买 母婴用品', 0.7145301136339505, '["XH2611070044","XH2610210028"]', '2026-12-07 12:29:12+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (320, 38, 'quality', 'motivation', '品质追求', 0.701139975590044, '["xh-dm-quality-0006","xh-dm-quality-0003"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (321, 38, 'life_stage:expecting', 'attribute', '孕期/备孕', 0.6920084699269771, '["xh-dm-quality-0009","xh-dm-quality-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (322, 38, 'question', 'intent', '提问', 0.45329047947689316, '["xh-dm-quality-0003","xh-dm-quality-0001"]', '2026-11-28 06:15:42+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (323, 38, 'praise', 'intent', '好评', 0.3164755685294731, '["xh-dm-quality-0009"]', '2026-12-08 06:30:23+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (324, 38, 'price', 'motivation', '价格敏感', 0.31198809593027543, '["XH2611070044"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (325, 38, 'occasional', 'frequency', '偶尔发言', 0.16666666666666666, '["xh-dm-quality-0009","xh-dm-quality-0007","xh-dm-quality-0006","xh-dm-quality-0003","xh-dm-quality-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (326, 39, 'morning', 'time', '早间活跃', 1, '["xh-dm-service-0011","xh-dm-service-0009","xh-dm-service-0008","xh-dm-service-0006","xh-dm-service-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (327, 39, 'mature', 'lifecycle', '成熟用户', 1, '["xh-dm-service-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (328, 39, 'general', 'value', '一般用户', 1, '[]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (329, 39, 'service', 'motivation', '服务依赖', 0.43658611589271346, '["xh-dm-service-0009","xh-dm-service-0008"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (330, 39, 'health', 'interest', '健康养生', 0.43655377559568054, '["xh-dm-service-0009","xh-dm-service-0001"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (331, 39, 'bought:营养保健', 'value', '近30天购买 营养保健', 0.40655571024931647, '["XH2610230030"]', '2026-11-21 22:34:55+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (332, 39, 'question', 'intent', '提问', 0.24436259842830588, '["xh-dm-service-0004"]', '2026-11-25 00:39:57+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (333, 39, 'image', 'content', '图片', 0.24435931454466198, '["xh-dm-service-0002"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (334, 39, 'complaint', 'intent', '抱怨投诉', 0.24435382261429006, '["xh-dm-service-0001"]', '2026-11-25 00:37:22+00', 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (335, 39, 'occasional', 'frequency', '偶尔发言', 0.23333333333333334, '["xh-dm-service-0011","xh-dm-service-0009","xh-dm-service-0008","xh-dm-service-0006","xh-dm-service-0004"]', NULL, 'derived', '2026-11-20 02:13:43+00');
INSERT INTO public.tag VALUES (336, 39, 'price', 'motivation', '价格敏感', 0.20142781534840126, '["XH2610160022"]', NULL, 'derived', '2026-11-20 02:13:43+00');


--
-- Data for Name: tag_claim; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, false);


--
-- Name: external_link_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.external_link_id_seq', 1, false);


--
-- Name: identity_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.identity_id_seq', 39, true);


--
-- Name: member_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.member_id_seq', 39, true);


--
-- Name: notify_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.notify_log_id_seq', 1, false);


--
-- Name: segment_run_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.segment_run_id_seq', 1, true);


--
-- Name: suggestion_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.suggestion_id_seq', 3, true);


--
-- Name: tag_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tag_id_seq', 336, true);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: chat chat_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.chat
    ADD CONSTRAINT chat_pkey PRIMARY KEY (id);


--
-- Name: consent_notice consent_notice_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.consent_notice
    ADD CONSTRAINT consent_notice_pkey PRIMARY KEY (member_pk);


--
-- Name: content_event content_event_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.content_event
    ADD CONSTRAINT content_event_pkey PRIMARY KEY (member_pk, event_id);


--
-- Name: external_link external_link_kind_value_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.external_link
    ADD CONSTRAINT external_link_kind_value_key UNIQUE (kind, value);


--
-- Name: external_link external_link_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.external_link
    ADD CONSTRAINT external_link_pkey PRIMARY KEY (id);


--
-- Name: identity identity_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.identity
    ADD CONSTRAINT identity_pkey PRIMARY KEY (id);


--
-- Name: identity identity_platform_platform_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.identity
    ADD CONSTRAINT identity_platform_platform_id_key UNIQUE (platform, platform_id);


--
-- Name: member_activity member_activity_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_activity
    ADD CONSTRAINT member_activity_pkey PRIMARY KEY (member_pk);


--
-- Name: member_keywords member_keywords_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_keywords
    ADD CONSTRAINT member_keywords_pkey PRIMARY KEY (member_pk);


--
-- Name: member member_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member
    ADD CONSTRAINT member_pkey PRIMARY KEY (id);


--
-- Name: member_segment member_segment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_segment
    ADD CONSTRAINT member_segment_pkey PRIMARY KEY (run_id, member_pk);


--
-- Name: member_tags member_tags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_tags
    ADD CONSTRAINT member_tags_pkey PRIMARY KEY (member_pk);


--
-- Name: message message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message
    ADD CONSTRAINT message_pkey PRIMARY KEY (id);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: notify_log notify_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notify_log
    ADD CONSTRAINT notify_log_pkey PRIMARY KEY (id);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (order_id);


--
-- Name: segment_run segment_run_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment_run
    ADD CONSTRAINT segment_run_pkey PRIMARY KEY (id);


--
-- Name: suggest_state suggest_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suggest_state
    ADD CONSTRAINT suggest_state_pkey PRIMARY KEY (key);


--
-- Name: suggestion suggestion_member_pk_scenario_trigger_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suggestion
    ADD CONSTRAINT suggestion_member_pk_scenario_trigger_key UNIQUE (member_pk, scenario, trigger);


--
-- Name: suggestion suggestion_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suggestion
    ADD CONSTRAINT suggestion_pkey PRIMARY KEY (id);


--
-- Name: tag_claim tag_claim_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_claim
    ADD CONSTRAINT tag_claim_pkey PRIMARY KEY (member_pk);


--
-- Name: tag tag_member_pk_code_source_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag
    ADD CONSTRAINT tag_member_pk_code_source_key UNIQUE (member_pk, code, source);


--
-- Name: tag tag_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag
    ADD CONSTRAINT tag_pkey PRIMARY KEY (id);


--
-- Name: ix_audit_log_ts; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_audit_log_ts ON public.audit_log USING btree (ts);


--
-- Name: ix_content_event_member_ts; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_content_event_member_ts ON public.content_event USING btree (member_pk, ts);


--
-- Name: ix_external_link_member_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_external_link_member_pk ON public.external_link USING btree (member_pk);


--
-- Name: ix_identity_member_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_identity_member_pk ON public.identity USING btree (member_pk);


--
-- Name: ix_member_member_id; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_member_member_id ON public.member USING btree (member_id);


--
-- Name: ix_member_segment_member_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_member_segment_member_pk ON public.member_segment USING btree (member_pk);


--
-- Name: ix_message_member_ts; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_message_member_ts ON public.message USING btree (member_pk, ts);


--
-- Name: ix_message_ts; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_message_ts ON public.message USING btree (ts);


--
-- Name: ix_notify_log_member_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_notify_log_member_pk ON public.notify_log USING btree (member_pk);


--
-- Name: ix_notify_log_operator_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_notify_log_operator_at ON public.notify_log USING btree (operator, at);


--
-- Name: ix_orders_member_ts; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_orders_member_ts ON public.orders USING btree (member_pk, ts);


--
-- Name: ix_segment_run_as_of; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_segment_run_as_of ON public.segment_run USING btree (as_of);


--
-- Name: ix_suggestion_member_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_suggestion_member_pk ON public.suggestion USING btree (member_pk);


--
-- Name: ix_suggestion_notify; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_suggestion_notify ON public.suggestion USING btree (operator, notified_at);


--
-- Name: ix_suggestion_open; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_suggestion_open ON public.suggestion USING btree (member_pk, scenario, status);


--
-- Name: ix_suggestion_queue; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_suggestion_queue ON public.suggestion USING btree (operator, trigger_ts) WHERE (((status)::text = 'pending'::text) AND (notified_at IS NULL) AND ((source)::text = 'hook'::text));


--
-- Name: ix_tag_member_pk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tag_member_pk ON public.tag USING btree (member_pk);


--
-- Name: ux_suggestion_one_open; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ux_suggestion_one_open ON public.suggestion USING btree (member_pk, scenario) WHERE (((status)::text = 'pending'::text) AND ((scenario)::text <> 'invite'::text));


--
-- Name: consent_notice consent_notice_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.consent_notice
    ADD CONSTRAINT consent_notice_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: content_event content_event_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.content_event
    ADD CONSTRAINT content_event_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: external_link external_link_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.external_link
    ADD CONSTRAINT external_link_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: identity identity_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.identity
    ADD CONSTRAINT identity_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: member_activity member_activity_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_activity
    ADD CONSTRAINT member_activity_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: member_keywords member_keywords_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_keywords
    ADD CONSTRAINT member_keywords_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: member_segment member_segment_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_segment
    ADD CONSTRAINT member_segment_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: member_segment member_segment_run_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_segment
    ADD CONSTRAINT member_segment_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.segment_run(id);


--
-- Name: member_tags member_tags_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.member_tags
    ADD CONSTRAINT member_tags_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: message message_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message
    ADD CONSTRAINT message_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: notify_log notify_log_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notify_log
    ADD CONSTRAINT notify_log_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id) ON DELETE CASCADE;


--
-- Name: orders orders_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: suggestion suggestion_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suggestion
    ADD CONSTRAINT suggestion_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id) ON DELETE CASCADE;


--
-- Name: tag_claim tag_claim_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag_claim
    ADD CONSTRAINT tag_claim_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- Name: tag tag_member_pk_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tag
    ADD CONSTRAINT tag_member_pk_fkey FOREIGN KEY (member_pk) REFERENCES public.member(id);


--
-- PostgreSQL database dump complete
--

\unrestrict kJTagEALjEXVXp2p8smCMwmmFFWck3apbAysQrHMtBHtmGI0RPIOx3Z0SUnHvbo

